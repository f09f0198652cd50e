package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/klauspost/compress/zstd"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

const aggregatedDiscoveryAccept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

type dumper struct {
	host   string
	client *http.Client
	out    string
	enc    *zstd.Encoder
	files  []string
}

// dumpMain writes the cluster's aggregated discovery and every OpenAPI v3
// group-version document into --out, each file reformatted as JSON with
// sorted keys (deterministic) and compressed with zstd.
func dumpMain(args []string) error {
	flags := flag.NewFlagSet("dump", flag.ExitOnError)
	kubeconfig := flags.String("kubeconfig", "", "kubeconfig of the cluster to dump")
	out := flags.String("out", "", "output folder (schemas/builtin)")
	_ = flags.Parse(args)
	if *kubeconfig == "" || *out == "" {
		return errors.New("--kubeconfig and --out are required")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		return err
	}
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return err
	}
	enc, err := zstd.NewWriter(nil,
		zstd.WithEncoderLevel(zstd.SpeedBestCompression),
		zstd.WithEncoderConcurrency(1))
	if err != nil {
		return err
	}
	d := &dumper{host: strings.TrimSuffix(cfg.Host, "/"), client: httpClient, out: *out, enc: enc}

	// Remove the previous dump so that vanished group-versions do not linger.
	for _, sub := range []string{"discovery", "openapi"} {
		if err := os.RemoveAll(filepath.Join(d.out, sub)); err != nil {
			return err
		}
	}

	if err := d.fetchAndWrite("/api", aggregatedDiscoveryAccept, "discovery/api.json"); err != nil {
		return err
	}
	if err := d.fetchAndWrite("/apis", aggregatedDiscoveryAccept, "discovery/apis.json"); err != nil {
		return err
	}

	indexRaw, err := d.get("/openapi/v3", "application/json")
	if err != nil {
		return err
	}
	var index struct {
		Paths map[string]struct {
			ServerRelativeURL string `json:"serverRelativeURL"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(indexRaw, &index); err != nil {
		return fmt.Errorf("parsing /openapi/v3: %w", err)
	}
	if len(index.Paths) == 0 {
		return errors.New("/openapi/v3 has no paths")
	}
	if err := d.write("openapi/v3/index.json", indexRaw); err != nil {
		return err
	}
	paths := make([]string, 0, len(index.Paths))
	for p := range index.Paths {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		rel := strings.Trim(p, "/")
		if rel == "" || strings.Contains(rel, "..") {
			return fmt.Errorf("unexpected OpenAPI v3 path %q", p)
		}
		u := index.Paths[p].ServerRelativeURL
		if u == "" {
			return fmt.Errorf("OpenAPI v3 path %q has no serverRelativeURL", p)
		}
		if err := d.fetchAndWrite(u, "application/json", "openapi/v3/"+rel+".json"); err != nil {
			return err
		}
	}
	versionRaw, err := d.get("/version", "application/json")
	if err != nil {
		return err
	}
	var version struct {
		GitVersion string `json:"gitVersion"`
	}
	if err := json.Unmarshal(versionRaw, &version); err != nil {
		return fmt.Errorf("parsing /version: %w", err)
	}
	return d.report(version.GitVersion)
}

func (d *dumper) get(path, accept string) ([]byte, error) {
	req, err := http.NewRequest(http.MethodGet, d.host+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", accept)
	resp, err := d.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", path, resp.Status, body)
	}
	if accept == aggregatedDiscoveryAccept && !strings.Contains(resp.Header.Get("Content-Type"), "g=apidiscovery.k8s.io") {
		return nil, fmt.Errorf("GET %s: server did not return aggregated discovery (Content-Type %q)", path, resp.Header.Get("Content-Type"))
	}
	return body, nil
}

func (d *dumper) fetchAndWrite(path, accept, rel string) error {
	body, err := d.get(path, accept)
	if err != nil {
		return err
	}
	return d.write(rel, body)
}

// canonicalJSON re-encodes JSON with sorted object keys, two-space indent and
// numbers kept verbatim, so the same document always gives the same bytes.
func canonicalJSON(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	e := json.NewEncoder(&buf)
	e.SetEscapeHTML(false)
	e.SetIndent("", "  ")
	if err := e.Encode(v); err != nil { // map keys are emitted sorted
		return nil, err
	}
	return buf.Bytes(), nil
}

func (d *dumper) write(rel string, raw []byte) error {
	canon, err := canonicalJSON(raw)
	if err != nil {
		return fmt.Errorf("%s: %w", rel, err)
	}
	path := filepath.Join(d.out, filepath.FromSlash(rel)+".zst")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(path, d.enc.EncodeAll(canon, nil), 0o644); err != nil {
		return err
	}
	d.files = append(d.files, rel+".zst")
	return nil
}

func (d *dumper) report(gitVersion string) error {
	var total, count int64
	err := filepath.WalkDir(d.out, func(path string, entry fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if entry.Type().IsRegular() && strings.HasSuffix(path, ".zst") {
			info, err := entry.Info()
			if err != nil {
				return err
			}
			total += info.Size()
			count++
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "testenv dump: wrote %d files, %d bytes compressed, into %s\n", count, total, d.out)
	readme := fmt.Sprintf(readmeTemplate, gitVersion, count, total, float64(total)/(1<<20))
	return os.WriteFile(filepath.Join(d.out, "README.md"), []byte(readme), 0o644)
}

const readmeTemplate = `# Built-in Kubernetes schema

kube-lsp's built-in default schema: the aggregated discovery and the OpenAPI v3
documents of a real kube-apiserver **%[1]s** (the test control plane of
` + "`tests/testenv/`" + `, built from k8s.io/kubernetes %[1]s), so only built-in
types (no CRDs, no aggregated APIs). kube-lsp embeds this folder with
` + "`include_bytes!`" + `.

Generated — do not edit. Regenerate with:

` + "```sh\ntests/testenv/dump-schema\n```" + `

(starts the testenv unless one is running, dumps, stops what it started). The
output is deterministic: every document is re-encoded as JSON with sorted keys
and two-space indent, then compressed with zstd (klauspost/compress, best
compression), so an unchanged Kubernetes version gives identical bytes.

## Layout

| file | source |
| --- | --- |
| ` + "`discovery/api.json.zst`" + ` | ` + "`GET /api`" + ` with ` + "`Accept: " + aggregatedDiscoveryAccept + "`" + ` (core group, ` + "`APIGroupDiscoveryList`" + `) |
| ` + "`discovery/apis.json.zst`" + ` | ` + "`GET /apis`" + ` with the same Accept header (all other groups) |
| ` + "`openapi/v3/index.json.zst`" + ` | ` + "`GET /openapi/v3`" + `: the index, ` + "`paths.<gv>.serverRelativeURL`" + ` with the content hash |
| ` + "`openapi/v3/<path>.json.zst`" + ` | each index path fetched by its ` + "`serverRelativeURL`" + `, the path mirrored as folders: ` + "`openapi/v3/api/v1.json.zst`" + `, ` + "`openapi/v3/apis/apps/v1.json.zst`" + `, ... |

## Size

%[2]d files, %[3]d bytes compressed (%.2[4]f MiB) in total.
`
