package main

import (
	"context"
	"errors"
)

func runImport(ctx context.Context, c *cli, args []string) error {
	return errors.New("not built yet")
}
