package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// ShutdownGrace is how long requests in flight, the collector's last
// commits and running jobs get once a stop was asked for.
const ShutdownGrace = 10 * time.Second

// Serve runs the process until ctx ends: it binds addr, starts the
// services, serves handler, and on the way out stops taking requests,
// lets those in flight finish, commits what the collector acknowledged
// and lets running jobs end (each within ShutdownGrace). ready, if not
// nil, is called with the base URL once the listener is bound and the
// services run.
func (a *App) Serve(ctx context.Context, addr string, handler http.Handler, ready func(baseURL string)) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn),
	}
	if err := a.Start(ctx); err != nil {
		ln.Close()
		return err
	}
	base := BaseURL(ln.Addr())
	a.Log.Info("listening", "url", base, "role", a.Role, "version", a.Version)
	if ready != nil {
		ready(base)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	var serveErr error
	select {
	case serveErr = <-errc:
		serveErr = fmt.Errorf("serve on %s: %w", addr, serveErr)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownGrace)
	defer cancel()
	err = srv.Shutdown(sctx)
	if serveErr == nil {
		if e := <-errc; e != nil && !errors.Is(e, http.ErrServerClosed) && err == nil {
			err = e
		}
	}
	if serr := a.Stop(sctx); serr != nil && err == nil {
		err = serr
	}
	if serveErr != nil {
		return serveErr
	}
	if err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	a.Log.Info("stopped")
	return nil
}

// BaseURL names a bound listener as a URL a local client can use: an
// unspecified address (":8080") is reached through 127.0.0.1.
func BaseURL(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return "http://" + addr.String()
	}
	host := tcp.IP.String()
	if tcp.IP == nil || tcp.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, fmt.Sprint(tcp.Port))
}
