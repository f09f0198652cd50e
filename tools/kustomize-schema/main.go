// Command kustomize-schema writes the OpenAPI v3 schema of kustomize's Kustomization and
// Component files (kustomize.config.k8s.io/v1beta1 Kustomization, v1alpha1 Component) from the
// Go types kustomize itself decodes them into: sigs.k8s.io/kustomize/api/types, the version
// go.mod pins (the one inside kubectl's kustomize v5.5.0).
//
// Structure comes from reflection over the types (json tags, inline structs, slices, maps,
// pointers) exactly as kustomize's strict YAML decoding (sigs.k8s.io/yaml → encoding/json)
// reads them; descriptions come from the doc comments of the type's fields, read with go/parser
// from the module's source. Fields whose comment says "Deprecated" carry
// `x-kube-lsp-deprecated` with that sentence.
//
// Usage: go run . > ../../schemas/kustomize/openapi.json (see tools/kustomize-schema/README.md).
// The output is deterministic: running it again gives the same bytes.
package main

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"sigs.k8s.io/kustomize/api/types"
)

const prefix = "io.k8s.sigs.kustomize.api.types."

// schema is one OpenAPI v3 schema node, with the keys kube-lsp reads.
type schema struct {
	Type                 string             `json:"type,omitempty"`
	Format               string             `json:"format,omitempty"`
	Description          string             `json:"description,omitempty"`
	Properties           map[string]*schema `json:"properties,omitempty"`
	Items                *schema            `json:"items,omitempty"`
	AdditionalProperties *schema            `json:"additionalProperties,omitempty"`
	Ref                  string             `json:"$ref,omitempty"`
	AllOf                []*schema          `json:"allOf,omitempty"`
	Enum                 []string           `json:"enum,omitempty"`
	GVK                  []gvk              `json:"x-kubernetes-group-version-kind,omitempty"`
	Deprecated           string             `json:"x-kube-lsp-deprecated,omitempty"`
}

type gvk struct {
	Group   string `json:"group"`
	Kind    string `json:"kind"`
	Version string `json:"version"`
}

type generator struct {
	// Doc comments by "Type.Field" (and "Type" for the type itself).
	docs    map[string]string
	schemas map[string]*schema
}

func main() {
	dir, err := typesDir()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	g := &generator{docs: readDocs(dir), schemas: map[string]*schema{}}
	kustomization := reflect.TypeOf(types.Kustomization{})
	g.named(kustomization)
	root := g.schemas[prefix+"Kustomization"]
	root.GVK = []gvk{{Group: "kustomize.config.k8s.io", Version: "v1beta1", Kind: "Kustomization"}}
	// A Component is the same Go type under another apiVersion and kind.
	component := *root
	component.Description = "Component is a kustomization that can be included by several kustomizations (kustomize.config.k8s.io/v1alpha1): its transformers apply to the resources of the kustomization that includes it."
	component.GVK = []gvk{{Group: "kustomize.config.k8s.io", Version: "v1alpha1", Kind: "Component"}}
	g.schemas[prefix+"Component"] = &component
	g.fixups()
	out := map[string]any{
		"openapi": "3.0.0",
		"info": map[string]string{
			"title":   "kustomize.config.k8s.io",
			"version": moduleVersion(),
		},
		"components": map[string]any{"schemas": g.schemas},
	}
	encoder := json.NewEncoder(os.Stdout)
	encoder.SetIndent("", " ")
	encoder.SetEscapeHTML(false)
	if err := encoder.Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// typesDir is the source folder of sigs.k8s.io/kustomize/api/types in the module cache.
func typesDir() (string, error) {
	out, err := exec.Command("go", "list", "-f", "{{.Dir}}", "sigs.k8s.io/kustomize/api/types").Output()
	if err != nil {
		return "", fmt.Errorf("go list sigs.k8s.io/kustomize/api/types: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

func moduleVersion() string {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", "sigs.k8s.io/kustomize/api").Output()
	if err != nil {
		return "unknown"
	}
	return "sigs.k8s.io/kustomize/api " + strings.TrimSpace(string(out))
}

// readDocs reads the doc comments of every struct type and field of the package.
func readDocs(dir string) map[string]string {
	docs := map[string]string{}
	set := token.NewFileSet()
	entries, _ := os.ReadDir(dir)
	for _, entry := range entries {
		name := entry.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(set, filepath.Join(dir, name), nil, parser.ParseComments)
		if err != nil {
			continue
		}
		for _, decl := range file.Decls {
			gen, ok := decl.(*ast.GenDecl)
			if !ok || gen.Tok != token.TYPE {
				continue
			}
			for _, spec := range gen.Specs {
				ts := spec.(*ast.TypeSpec)
				doc := ts.Doc
				if doc == nil && len(gen.Specs) == 1 {
					doc = gen.Doc
				}
				docs[ts.Name.Name] = clean(doc)
				st, ok := ts.Type.(*ast.StructType)
				if !ok {
					continue
				}
				for _, field := range st.Fields.List {
					text := clean(field.Doc)
					if text == "" {
						text = clean(field.Comment)
					}
					for _, n := range field.Names {
						docs[ts.Name.Name+"."+n.Name] = text
					}
				}
			}
		}
	}
	return docs
}

// clean is a comment group as one paragraph.
func clean(group *ast.CommentGroup) string {
	if group == nil {
		return ""
	}
	var lines []string
	for _, line := range strings.Split(group.Text(), "\n") {
		line = strings.TrimSpace(line)
		if line != "" {
			lines = append(lines, line)
		}
	}
	return strings.Join(lines, " ")
}

// named registers the schema of a named struct type and returns a reference to it.
func (g *generator) named(t reflect.Type) *schema {
	name := prefix + t.Name()
	if _, done := g.schemas[name]; !done {
		s := &schema{Type: "object", Properties: map[string]*schema{}, Description: g.docs[t.Name()]}
		g.schemas[name] = s
		g.fields(t, t.Name(), s)
	}
	return &schema{Ref: "#/components/schemas/" + name}
}

// fields adds the JSON fields of struct `t` to `s`, flattening inline and embedded structs as
// encoding/json does.
func (g *generator) fields(t reflect.Type, owner string, s *schema) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if tag == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		inline := strings.Contains(opts, "inline") || (f.Anonymous && name == "")
		if inline {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			g.fields(ft, ft.Name(), s)
			continue
		}
		if name == "" {
			name = f.Name
		}
		field := g.of(f.Type)
		doc := g.docs[owner+"."+f.Name]
		if field.Ref != "" {
			// Keep the description beside the reference, as Kubernetes' documents do.
			field = &schema{AllOf: []*schema{field}}
		}
		field.Description = doc
		if i := strings.Index(doc, "Deprecated"); i >= 0 {
			field.Deprecated = sentence(doc[i:])
		}
		s.Properties[name] = field
	}
}

// sentence is the text up to the end of its first sentence.
func sentence(text string) string {
	for i := 0; i+1 < len(text); i++ {
		if text[i] == '.' && text[i+1] == ' ' && !strings.HasSuffix(text[:i], "e.g") {
			return text[:i+1]
		}
	}
	return text
}

// of is the schema of a Go type as encoding/json reads it.
func (g *generator) of(t reflect.Type) *schema {
	switch t.Kind() {
	case reflect.Pointer:
		return g.of(t.Elem())
	case reflect.String:
		return &schema{Type: "string"}
	case reflect.Bool:
		return &schema{Type: "boolean"}
	case reflect.Int, reflect.Int64, reflect.Uint64, reflect.Uint:
		return &schema{Type: "integer", Format: "int64"}
	case reflect.Int32, reflect.Int16, reflect.Int8, reflect.Uint32, reflect.Uint16, reflect.Uint8:
		return &schema{Type: "integer", Format: "int32"}
	case reflect.Float32, reflect.Float64:
		return &schema{Type: "number"}
	case reflect.Slice, reflect.Array:
		return &schema{Type: "array", Items: g.of(t.Elem())}
	case reflect.Map:
		return &schema{Type: "object", AdditionalProperties: g.of(t.Elem())}
	case reflect.Struct:
		return g.named(t)
	case reflect.Interface:
		return &schema{}
	}
	panic("unsupported type " + t.String())
}

// fixups records what the Go types alone do not say but kustomize's code does.
func (g *generator) fixups() {
	// buildMetadata's values are checked against types.BuildMetadataOptions.
	k := g.schemas[prefix+"Kustomization"]
	options := append([]string(nil), types.BuildMetadataOptions...)
	sort.Strings(options)
	k.Properties["buildMetadata"].Items.Enum = options
}
