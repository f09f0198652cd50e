package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
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

// pki holds the file paths and PEM data of the test control plane's
// certificates and keys. Everything is generated fresh for every run.
type pki struct {
	dir string

	caCert    *x509.Certificate
	caKey     crypto.Signer
	CACertPEM []byte

	// serving certificate of kube-apiserver
	ServingCertFile, ServingKeyFile string
	// client CA (the same CA signs serving and client certs)
	CACertFile string
	// service-account signing key pair
	SAKeyFile, SAPubFile string

	AdminCertPEM, AdminKeyPEM           []byte
	RestrictedCertPEM, RestrictedKeyPEM []byte
}

const (
	adminUser      = "kube-lsp-admin"
	restrictedUser = "kube-lsp-restricted"
)

func newSerial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
}

func writePEM(path, typ string, der []byte, mode os.FileMode) ([]byte, error) {
	data := pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
	return data, os.WriteFile(path, data, mode)
}

func newECKey() (*ecdsa.PrivateKey, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return key, der, nil
}

// generatePKI writes a CA, a serving certificate (SANs localhost, 127.0.0.1
// and the first service IP), an admin client certificate (group
// system:masters), a restricted client certificate (no privileged group) and
// an RSA service-account key pair into dir.
func generatePKI(dir string, serviceIP net.IP) (*pki, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	p := &pki{dir: dir}
	now := time.Now().Add(-time.Hour)
	notAfter := now.Add(10 * 24 * time.Hour)

	// CA
	caKey, caKeyDER, err := newECKey()
	if err != nil {
		return nil, err
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "kube-lsp-testenv-ca"},
		NotBefore:             now,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		return nil, err
	}
	p.caCert, err = x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	p.caKey = caKey
	p.CACertFile = filepath.Join(dir, "ca.crt")
	if p.CACertPEM, err = writePEM(p.CACertFile, "CERTIFICATE", caDER, 0o644); err != nil {
		return nil, err
	}
	if _, err = writePEM(filepath.Join(dir, "ca.key"), "PRIVATE KEY", caKeyDER, 0o600); err != nil {
		return nil, err
	}

	// serving certificate
	servingCert, servingKey, err := p.issue(&x509.Certificate{
		Subject:     pkix.Name{CommonName: "kube-apiserver"},
		DNSNames:    []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), serviceIP},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, now, notAfter)
	if err != nil {
		return nil, err
	}
	p.ServingCertFile = filepath.Join(dir, "apiserver.crt")
	p.ServingKeyFile = filepath.Join(dir, "apiserver.key")
	if err := os.WriteFile(p.ServingCertFile, servingCert, 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(p.ServingKeyFile, servingKey, 0o600); err != nil {
		return nil, err
	}

	// admin client certificate: group system:masters
	p.AdminCertPEM, p.AdminKeyPEM, err = p.issue(&x509.Certificate{
		Subject:     pkix.Name{CommonName: adminUser, Organization: []string{"system:masters"}},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, now, notAfter)
	if err != nil {
		return nil, err
	}
	// restricted client certificate: no privileged group
	p.RestrictedCertPEM, p.RestrictedKeyPEM, err = p.issue(&x509.Certificate{
		Subject:     pkix.Name{CommonName: restrictedUser, Organization: []string{"kube-lsp:restricted"}},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, now, notAfter)
	if err != nil {
		return nil, err
	}
	for name, data := range map[string][]byte{
		"admin.crt": p.AdminCertPEM, "admin.key": p.AdminKeyPEM,
		"restricted.crt": p.RestrictedCertPEM, "restricted.key": p.RestrictedKeyPEM,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return nil, err
		}
	}

	// service-account signing key (RSA, as kube-apiserver expects by default)
	saKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	p.SAKeyFile = filepath.Join(dir, "sa.key")
	p.SAPubFile = filepath.Join(dir, "sa.pub")
	if _, err := writePEM(p.SAKeyFile, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(saKey), 0o600); err != nil {
		return nil, err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	if err != nil {
		return nil, err
	}
	if _, err := writePEM(p.SAPubFile, "PUBLIC KEY", pubDER, 0o644); err != nil {
		return nil, err
	}
	return p, nil
}

// issue signs tmpl with the CA and returns the certificate and key as PEM.
func (p *pki) issue(tmpl *x509.Certificate, notBefore, notAfter time.Time) (certPEM, keyPEM []byte, err error) {
	key, keyDER, err := newECKey()
	if err != nil {
		return nil, nil, err
	}
	serial, err := newSerial()
	if err != nil {
		return nil, nil, err
	}
	tmpl.SerialNumber = serial
	tmpl.NotBefore = notBefore
	tmpl.NotAfter = notAfter
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.caCert, key.Public(), p.caKey)
	if err != nil {
		return nil, nil, fmt.Errorf("signing %q: %w", tmpl.Subject.CommonName, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}
