// Command testenv runs a real Kubernetes control plane for kube-lsp's tests:
// etcd (embedded, go.etcd.io/etcd/server/v3/embed) and kube-apiserver
// (k8s.io/kubernetes/cmd/kube-apiserver/app) in one process, listening on
// loopback only. No controller-manager and no scheduler run.
//
// Subcommands:
//
//	testenv run  --dir STATE            start the control plane, write STATE/kubeconfig when ready
//	testenv dump --kubeconfig KC --out DIR   dump aggregated discovery + OpenAPI v3 (zstd)
//
// The start/stop/dump-schema scripts next to this file drive it.
package main

import (
	"fmt"
	"os"
)

func usage() {
	fmt.Fprintf(os.Stderr, "usage:\n  %s run --dir STATE_DIR\n  %s dump --kubeconfig KUBECONFIG --out DIR\n", os.Args[0], os.Args[0])
	os.Exit(2)
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "run":
		err = runMain(os.Args[2:])
	case "dump":
		err = dumpMain(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "testenv %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}
