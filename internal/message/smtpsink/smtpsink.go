// Package smtpsink is a plain SMTP server for tests: it takes every
// message on a loopback port and keeps the recipients and the raw
// messages it got, in order.
package smtpsink

import (
	"io"
	"net"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"
)

// Sink is a running server; read Rcpt and Msgs under Mu.
type Sink struct {
	Port int
	Mu   sync.Mutex
	Msgs []string
	Rcpt []string
}

// New starts a sink that stops when the test ends.
func New(t testing.TB) *Sink {
	t.Helper()
	k := &Sink{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{k: k}, nil }))
	srv.Domain, srv.AllowInsecureAuth = "sink.test", true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	k.Port = ln.Addr().(*net.TCPAddr).Port
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return k
}

// Messages is a copy of the messages got so far.
func (k *Sink) Messages() []string {
	k.Mu.Lock()
	defer k.Mu.Unlock()
	return append([]string(nil), k.Msgs...)
}

type session struct{ k *Sink }

func (s *session) Reset()                               {}
func (s *session) Logout() error                        { return nil }
func (s *session) Mail(string, *smtp.MailOptions) error { return nil }
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.k.Mu.Lock()
	s.k.Rcpt = append(s.k.Rcpt, to)
	s.k.Mu.Unlock()
	return nil
}
func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.k.Mu.Lock()
	s.k.Msgs = append(s.k.Msgs, string(b))
	s.k.Mu.Unlock()
	return err
}
