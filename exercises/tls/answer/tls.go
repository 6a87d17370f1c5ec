package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// certValidity is how long a certificate from writeCert is good for. Short on
// purpose: it is for trying things out, and a lost key stops working soon.
const certValidity = 30 * 24 * time.Hour

// writeCert makes a new private key and a certificate for it, valid for
// localhost, 127.0.0.1 and ::1, and writes them to dir as key.pem and cert.pem.
// The key file is readable by its owner only, and neither file is overwritten.
//
// The certificate is signed with its own key and marked as a certificate
// authority (CA): a client can take cert.pem as the one authority it trusts.
func writeCert(dir string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	// Every certificate from one issuer needs its own serial number: a random
	// 128-bit one will not repeat.
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return err
	}
	now := time.Now()
	template := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "chatbook chat server"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		NotBefore:    now.Add(-5 * time.Minute), // a little slack for a clock that is behind
		NotAfter:     now.Add(certValidity),

		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true, // so it can be its own root
		BasicConstraintsValid: true, // without this, IsCA is not written down
	}
	// The template twice: the certificate is its own issuer ("self-signed").
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}

	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := writePEM(filepath.Join(dir, "key.pem"), "PRIVATE KEY", keyDER, 0o600); err != nil {
		return err
	}
	return writePEM(filepath.Join(dir, "cert.pem"), "CERTIFICATE", der, 0o644)
}

// writePEM writes der to a NEW file, in PEM: base64 between BEGIN and END lines.
// It refuses to overwrite a file: a key replaced by mistake is gone for good.
func writePEM(name, kind string, der []byte, perm os.FileMode) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if err := pem.Encode(f, &pem.Block{Type: kind, Bytes: der}); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// listenTLS listens on addr and speaks TLS to whoever connects, showing them
// the certificate in certFile and proving it owns it with the key in keyFile.
func listenTLS(addr, certFile, keyFile string) (net.Listener, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	config := &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS13, // both ends are ours: no need for older versions
	}
	return tls.Listen("tcp", addr, config)
}

// dialTLS connects to addr over TLS and checks that the server's certificate
// was issued by the one in caFile (which may be the server's own certificate)
// for the host in addr. It trusts nothing else, not even the system's CAs.
func dialTLS(addr, caFile string) (*tls.Conn, error) {
	pemBytes, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pemBytes) {
		return nil, fmt.Errorf("%s holds no PEM certificate", caFile)
	}
	config := &tls.Config{
		RootCAs:    roots, // ServerName is left empty: tls takes the host from addr
		MinVersion: tls.VersionTLS13,
	}
	// The dialer's Timeout covers the handshake too: a server that never answers
	// cannot keep us waiting.
	return tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, config)
}
