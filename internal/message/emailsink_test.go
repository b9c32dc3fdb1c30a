package message

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// sink is an SMTP server in the test's process: it keeps what it is sent
// and counts connections, and can require STARTTLS and a login, refuse
// recipients, or drop every connection.
type sink struct {
	t        testing.TB
	srv      *smtp.Server
	ln       net.Listener
	addr     string
	port     int
	tls      *tls.Config // server side; nil: no STARTTLS
	clientCA *x509.CertPool
	user     string
	pass     string
	discard  bool // keep nothing (benchmarks)
	implicit bool // TLS from the first byte instead of STARTTLS

	conns      atomic.Int64
	received   atomic.Int64
	mu         sync.Mutex
	msgs       []sunk
	live       []*smtp.Conn
	reject     func(rcpt string) error
	rejectMail error // refuses every MAIL FROM when set
}

type sunk struct {
	From string
	To   []string
	Data string
	TLS  bool
	Auth string
}

func newSink(t testing.TB, withTLS bool, user, pass string) *sink {
	return newSinkMode(t, withTLS, false, user, pass)
}

// newSinkMode makes a sink; implicit serves TLS from the first byte.
func newSinkMode(t testing.TB, withTLS, implicit bool, user, pass string) *sink {
	t.Helper()
	k := &sink{t: t, user: user, pass: pass, implicit: implicit}
	if withTLS {
		k.tls, k.clientCA = testCertificate(t)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	k.addr = ln.Addr().String()
	_, p, _ := net.SplitHostPort(k.addr)
	k.port, _ = strconv.Atoi(p)
	k.serve(&countingListener{Listener: ln, n: &k.conns})
	t.Cleanup(func() { k.srv.Close() })
	return k
}

func (k *sink) serve(ln net.Listener) {
	if k.implicit {
		ln = tls.NewListener(ln, k.tls)
	}
	k.ln = ln
	k.srv = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		k.mu.Lock()
		k.live = append(k.live, c)
		k.mu.Unlock()
		return &sinkSession{k: k, c: c}, nil
	}))
	k.srv.Domain = "sink.test"
	k.srv.TLSConfig = k.tls
	k.srv.AllowInsecureAuth = k.tls == nil
	k.srv.ReadTimeout = 10 * time.Second
	k.srv.ErrorLog = nopLogger{}
	go k.srv.Serve(ln)
}

// stop closes the listener and every connection; restart listens again
// on the same port.
func (k *sink) stop() { k.srv.Close() }

func (k *sink) restart() {
	var ln net.Listener
	var err error
	for range 50 {
		if ln, err = net.Listen("tcp", k.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		k.t.Fatal(err)
	}
	k.serve(&countingListener{Listener: ln, n: &k.conns})
}

// countingListener counts the connections accepted (go-smtp makes a new
// session after STARTTLS, so sessions are no count of connections).
type countingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// dropAll closes every open connection, as a server restart or an idle
// time-out would, while still taking new ones.
func (k *sink) dropAll() {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, c := range k.live {
		c.Conn().Close()
	}
	k.live = nil
}

func (k *sink) messages() []sunk {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]sunk(nil), k.msgs...)
}

type nopLogger struct{}

func (nopLogger) Printf(string, ...interface{}) {}
func (nopLogger) Println(...interface{})        {}

type sinkSession struct {
	k    *sink
	c    *smtp.Conn
	auth string
	cur  sunk
}

func (s *sinkSession) AuthMechanisms() []string {
	if s.k.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *sinkSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != s.k.user || password != s.k.pass {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "bad credentials"}
		}
		s.auth = username
		return nil
	}), nil
}

func (s *sinkSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.k.user != "" && s.auth == "" {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "authentication required"}
	}
	s.k.mu.Lock()
	rm := s.k.rejectMail
	s.k.mu.Unlock()
	if rm != nil {
		return rm
	}
	_, isTLS := s.c.TLSConnectionState()
	s.cur = sunk{From: from, TLS: isTLS, Auth: s.auth}
	return nil
}

func (s *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.k.mu.Lock()
	reject := s.k.reject
	s.k.mu.Unlock()
	if reject != nil {
		if err := reject(to); err != nil {
			return err
		}
	}
	s.cur.To = append(s.cur.To, to)
	return nil
}

func (s *sinkSession) Data(r io.Reader) error {
	if s.k.discard {
		_, err := io.Copy(io.Discard, r)
		s.k.received.Add(1)
		return err
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.Data = string(b)
	s.k.mu.Lock()
	s.k.msgs = append(s.k.msgs, s.cur)
	s.k.mu.Unlock()
	s.k.received.Add(1)
	return nil
}

func (s *sinkSession) Reset()        { s.cur = sunk{} }
func (s *sinkSession) Logout() error { return nil }

// testCertificate makes a self-signed certificate for 127.0.0.1: the
// server's TLS configuration and a pool that trusts it.
func testCertificate(t testing.TB) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sink.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, pool
}

// testTLSClient trusts the sink's certificate.
func testTLSClient(k *sink) *tls.Config { return &tls.Config{RootCAs: k.clientCA} }

// storeForBench is a fresh SQLite store for a benchmark.
func storeForBench(b *testing.B) *store.Store { return storetest.SQLite(b) }
