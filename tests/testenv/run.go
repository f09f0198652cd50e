package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

const (
	restrictedNamespace = "kube-lsp-restricted"
	serviceClusterRange = "10.0.0.0/24"
	readyTimeout        = 85 * time.Second
)

// auditPolicyYAML logs every request once, when its response is complete, at Metadata level.
const auditPolicyYAML = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
`

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "testenv: "+format+"\n", args...)
}

// freePort asks the kernel for a free TCP port on 127.0.0.1.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func mustURL(s string) url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return *u
}

func startEtcd(dir string) (*embed.Etcd, string, error) {
	clientPort, err := freePort()
	if err != nil {
		return nil, "", err
	}
	peerPort, err := freePort()
	if err != nil {
		return nil, "", err
	}
	cfg := embed.NewConfig()
	cfg.Name = "testenv"
	cfg.Dir = filepath.Join(dir, "etcd")
	clientURL := mustURL("http://127.0.0.1:" + strconv.Itoa(clientPort))
	peerURL := mustURL("http://127.0.0.1:" + strconv.Itoa(peerPort))
	cfg.ListenClientUrls = []url.URL{clientURL}
	cfg.AdvertiseClientUrls = []url.URL{clientURL}
	cfg.ListenPeerUrls = []url.URL{peerURL}
	cfg.AdvertisePeerUrls = []url.URL{peerURL}
	cfg.InitialCluster = cfg.Name + "=" + peerURL.String()
	cfg.LogLevel = "warn"
	cfg.LogOutputs = []string{filepath.Join(dir, "etcd.log")}
	// Test data only: skip fsync, it makes the apiserver's writes much faster.
	cfg.UnsafeNoFsync = true
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, "", fmt.Errorf("starting etcd: %w", err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return nil, "", fmt.Errorf("etcd failed: %w", err)
	case <-time.After(60 * time.Second):
		e.Server.Stop()
		e.Close()
		return nil, "", errors.New("etcd did not become ready within 60s")
	}
	return e, clientURL.String(), nil
}

func runMain(args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	dir := fs.String("dir", "", "state directory (pki, etcd data, kubeconfig)")
	_ = fs.Parse(args)
	if *dir == "" {
		return errors.New("--dir is required")
	}
	stateDir, err := filepath.Abs(*dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return err
	}
	kubeconfigPath := filepath.Join(stateDir, "kubeconfig")
	_ = os.Remove(kubeconfigPath)
	start := time.Now()

	serviceIP := net.ParseIP("10.0.0.1")
	certs, err := generatePKI(filepath.Join(stateDir, "pki"), serviceIP)
	if err != nil {
		return fmt.Errorf("generating PKI: %w", err)
	}

	etcd, etcdURL, err := startEtcd(stateDir)
	if err != nil {
		return err
	}
	defer etcd.Close()
	logf("etcd ready at %s after %v", etcdURL, time.Since(start).Round(time.Millisecond))

	securePort, err := freePort()
	if err != nil {
		return err
	}
	host := "https://127.0.0.1:" + strconv.Itoa(securePort)
	// Audit log: every request at Metadata level (verb, requestURI with its query string, user,
	// user agent, response code), so tests can prove what a client sent (kube-lsp never writes).
	auditPolicy := filepath.Join(stateDir, "audit-policy.yaml")
	if err := os.WriteFile(auditPolicy, []byte(auditPolicyYAML), 0o600); err != nil {
		return fmt.Errorf("writing the audit policy: %w", err)
	}
	flags := []string{
		"--etcd-servers=" + etcdURL,
		"--secure-port=" + strconv.Itoa(securePort),
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--cert-dir=" + filepath.Join(stateDir, "pki"),
		"--tls-cert-file=" + certs.ServingCertFile,
		"--tls-private-key-file=" + certs.ServingKeyFile,
		"--client-ca-file=" + certs.CACertFile,
		"--service-account-issuer=" + host + "/",
		"--service-account-key-file=" + certs.SAPubFile,
		"--service-account-signing-key-file=" + certs.SAKeyFile,
		"--service-cluster-ip-range=" + serviceClusterRange,
		"--authorization-mode=Node,RBAC",
		"--disable-admission-plugins=ServiceAccount",
		"--endpoint-reconciler-type=none",
		"--allow-privileged=true",
		"--audit-policy-file=" + auditPolicy,
		"--audit-log-path=" + filepath.Join(stateDir, "audit.log"),
		"--audit-log-format=json",
		"--audit-log-mode=blocking",
		"--v=0",
	}
	logf("kube-apiserver flags: %v", flags)

	cmd := app.NewAPIServerCommand()
	cmd.SetArgs(flags)
	apiserverDone := make(chan error, 1)
	go func() { apiserverDone <- cmd.Execute() }()
	// The command's context is cancelled on SIGTERM/SIGINT
	// (genericapiserver.SetupSignalContext); Execute then returns.
	ctx := cmd.Context()

	adminCfg := &rest.Config{
		Host: host,
		TLSClientConfig: rest.TLSClientConfig{
			CAData:   certs.CACertPEM,
			CertData: certs.AdminCertPEM,
			KeyData:  certs.AdminKeyPEM,
		},
		Timeout: 10 * time.Second,
	}
	client, err := kubernetes.NewForConfig(adminCfg)
	if err != nil {
		return err
	}
	if err := waitReady(ctx, client, apiserverDone); err != nil {
		return err
	}
	logf("kube-apiserver ready at %s after %v", host, time.Since(start).Round(time.Millisecond))

	if err := setupRestricted(ctx, client); err != nil {
		return fmt.Errorf("creating the restricted namespace/RBAC: %w", err)
	}
	if err := writeKubeconfig(kubeconfigPath, host, certs); err != nil {
		return fmt.Errorf("writing kubeconfig: %w", err)
	}
	logf("kubeconfig written to %s after %v; pid %d", kubeconfigPath, time.Since(start).Round(time.Millisecond), os.Getpid())

	err = <-apiserverDone
	logf("kube-apiserver stopped (%v); stopping etcd", err)
	return err
}

func waitReady(ctx context.Context, client *kubernetes.Clientset, apiserverDone <-chan error) error {
	deadline := time.Now().Add(readyTimeout)
	var lastErr error
	for {
		select {
		case err := <-apiserverDone:
			return fmt.Errorf("kube-apiserver exited before it was ready: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("kube-apiserver not ready after %v: %v", readyTimeout, lastErr)
		}
		body, err := client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err != nil {
			lastErr = fmt.Errorf("/readyz: %v: %s", err, body)
			continue
		}
		if _, err := client.CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{}); err != nil {
			lastErr = fmt.Errorf("GET namespace default: %v", err)
			continue
		}
		return nil
	}
}

// setupRestricted creates the namespace kube-lsp-restricted and a Role that
// allows get/list/watch on every resource in it (and nothing else), bound to
// the restricted user.
func setupRestricted(ctx context.Context, client *kubernetes.Clientset) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: restrictedNamespace}}
	if _, err := client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "kube-lsp-read-only", Namespace: restrictedNamespace},
		Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{"*"},
			Resources: []string{"*"},
			Verbs:     []string{"get", "list", "watch"},
		}},
	}
	if _, err := client.RbacV1().Roles(restrictedNamespace).Create(ctx, role, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "kube-lsp-read-only", Namespace: restrictedNamespace},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: restrictedUser}},
	}
	if _, err := client.RbacV1().RoleBindings(restrictedNamespace).Create(ctx, binding, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	return nil
}

func writeKubeconfig(path, host string, certs *pki) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["testenv"] = &clientcmdapi.Cluster{Server: host, CertificateAuthorityData: certs.CACertPEM}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: certs.AdminCertPEM, ClientKeyData: certs.AdminKeyPEM}
	cfg.AuthInfos["restricted"] = &clientcmdapi.AuthInfo{ClientCertificateData: certs.RestrictedCertPEM, ClientKeyData: certs.RestrictedKeyPEM}
	cfg.Contexts["admin"] = &clientcmdapi.Context{Cluster: "testenv", AuthInfo: "admin", Namespace: "default"}
	cfg.Contexts["restricted"] = &clientcmdapi.Context{Cluster: "testenv", AuthInfo: "restricted", Namespace: restrictedNamespace}
	cfg.CurrentContext = "admin"
	// Write next to the target, then rename: the start script polls for the
	// file and must never see a partial one.
	tmp := path + ".tmp"
	if err := clientcmd.WriteToFile(*cfg, tmp); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
