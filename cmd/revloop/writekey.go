package main

import (
	"context"
	"errors"
)

func runWriteKey(ctx context.Context, c *cli, args []string) error {
	return errors.New("not built yet")
}
