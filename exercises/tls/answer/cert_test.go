package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// newCertDir runs writeCert in a fresh folder that disappears when the test
// ends: no key is ever left behind, or committed by mistake.
func newCertDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, writeCert(dir))
	return dir
}

// readCert parses the one certificate in a PEM file.
func readCert(t *testing.T, name string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(name)
	require.NoError(t, err)
	block, rest := pem.Decode(b)
	require.NotNil(t, block, "%s holds no PEM block", name)
	require.Equal(t, "CERTIFICATE", block.Type)
	require.Empty(t, bytes.TrimSpace(rest), "%s holds one certificate and nothing more", name)
	cert, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	return cert
}

func TestWriteCert(t *testing.T) {
	dir := newCertDir(t)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	cert := readCert(t, certFile)

	// The names a client may dial us by.
	require.NoError(t, cert.VerifyHostname("localhost"))
	require.NoError(t, cert.VerifyHostname("127.0.0.1"))

	// An ECDSA key on the P-256 curve: small, fast, and what TLS 1.3 likes.
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	require.True(t, ok, "the key is ECDSA, not %T", cert.PublicKey)
	require.Equal(t, elliptic.P256().Params().Name, pub.Curve.Params().Name)

	// Its own root: trusted as an authority, it vouches for itself as a server.
	require.True(t, cert.BasicConstraintsValid && cert.IsCA, "the certificate is marked as a CA")
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	_, err := cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: "localhost"})
	require.NoError(t, err, "cert.pem, trusted as the root, does not vouch for itself")

	// Valid now, and not for long.
	now := time.Now()
	require.True(t, cert.NotBefore.Before(now), "valid from %v: not yet valid", cert.NotBefore)
	require.True(t, cert.NotAfter.After(now.Add(24*time.Hour)), "valid until %v: too soon to try it out", cert.NotAfter)
	require.LessOrEqual(t, cert.NotAfter.Sub(cert.NotBefore), 90*24*time.Hour, "valid for more than 90 days")

	// key.pem is the key of cert.pem, and nobody but its owner may read it.
	_, err = tls.LoadX509KeyPair(certFile, keyFile)
	require.NoError(t, err, "key.pem and cert.pem are not a pair")
	if runtime.GOOS != "windows" { // Windows has no such permission bits
		info, err := os.Stat(keyFile)
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "key.pem's permissions")
	}

	// Running it again in the same folder destroys nothing.
	keyBefore, err := os.ReadFile(keyFile)
	require.NoError(t, err)
	require.Error(t, writeCert(dir), "writeCert overwrote an existing key")
	keyAfter, err := os.ReadFile(keyFile)
	require.NoError(t, err)
	require.Equal(t, keyBefore, keyAfter, "writeCert changed an existing key.pem")

	// And every run makes a new key: none is built into the program.
	other := readCert(t, filepath.Join(newCertDir(t), "cert.pem"))
	require.False(t, pub.Equal(other.PublicKey), "two runs of writeCert gave the same key")
}
