// Command yaml-golden writes, for every <name>.yaml in a directory, the JSON
// that kubectl's converter (sigs.k8s.io/yaml.YAMLToJSON) produces for it:
// <name>.json on success, or <name>.error holding the error text.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: yaml-golden <fixtures-dir>")
		os.Exit(2)
	}
	inputs, err := filepath.Glob(filepath.Join(os.Args[1], "*.yaml"))
	if err != nil {
		fail(err)
	}
	sort.Strings(inputs)
	for _, input := range inputs {
		if err := writeGolden(input); err != nil {
			fail(err)
		}
	}
	fmt.Printf("wrote goldens for %d fixtures\n", len(inputs))
}

func writeGolden(input string) error {
	source, err := os.ReadFile(input)
	if err != nil {
		return err
	}
	base := strings.TrimSuffix(input, ".yaml")
	// Only one of the two goldens may exist for a fixture.
	for _, stale := range []string{base + ".json", base + ".error"} {
		if err := os.Remove(stale); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	converted, convertErr := yaml.YAMLToJSON(source)
	if convertErr != nil {
		return os.WriteFile(base+".error", []byte(convertErr.Error()+"\n"), 0o644)
	}
	return os.WriteFile(base+".json", append(converted, '\n'), 0o644)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "yaml-golden:", err)
	os.Exit(1)
}
