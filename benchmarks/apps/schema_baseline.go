// A Go schema-only validator, the baseline `benchmarks/check.py` runs side by side.
//
// It does what kubeval did (kubeconform's predecessor): decode each YAML document
// (gopkg.in/yaml.v3), pick the strict schema of its apiVersion/kind from the same
// bundled Kubernetes schemas kubeship uses, validate with gojsonschema. Both
// libraries come from Debian's packages (GOPATH mode, no network). kubeconform
// itself uses a faster validator and parallel workers: this is a Go anchor, not it.
//
// usage: schema_baseline SCHEMA_DIR FILE  → prints "objects invalid seconds"
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/xeipuuv/gojsonschema"
	"gopkg.in/yaml.v3"
)

func schemaName(apiVersion, kind string) string {
	group, version := "", apiVersion
	if i := strings.LastIndex(apiVersion, "/"); i >= 0 {
		group, version = strings.Split(apiVersion[:i], ".")[0], apiVersion[i+1:]
	}
	if group == "" {
		return fmt.Sprintf("%s-%s.json", strings.ToLower(kind), version)
	}
	return fmt.Sprintf("%s-%s-%s.json", strings.ToLower(kind), group, version)
}

func main() {
	dir, file := os.Args[1], os.Args[2]
	defs, err := os.ReadFile(filepath.Join(dir, "_definitions.json"))
	if err != nil {
		panic(err)
	}
	f, err := os.Open(file)
	if err != nil {
		panic(err)
	}
	start := time.Now()
	schemas := map[string]*gojsonschema.Schema{}
	decoder := yaml.NewDecoder(f)
	objects, invalid := 0, 0
	for {
		var obj map[string]interface{}
		if err := decoder.Decode(&obj); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			panic(err)
		}
		if obj == nil {
			continue
		}
		objects++
		name := schemaName(fmt.Sprint(obj["apiVersion"]), fmt.Sprint(obj["kind"]))
		schema, ok := schemas[name]
		if !ok {
			text, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				schemas[name] = nil // no schema: skipped, as kubeconform -ignore-missing-schemas
				continue
			}
			loader := gojsonschema.NewSchemaLoader()
			// the schemas refer to "/api/_definitions.json#/$defs/..."; serve it under that name
			if err := loader.AddSchema("https://kubeship.invalid/api/_definitions.json", gojsonschema.NewBytesLoader(defs)); err != nil {
				panic(err)
			}
			main := strings.Replace(string(text), `"$ref": "/api/`, `"$ref": "https://kubeship.invalid/api/`, -1)
			if schema, err = loader.Compile(gojsonschema.NewStringLoader(main)); err != nil {
				panic(err)
			}
			schemas[name] = schema
		}
		if schema == nil {
			continue
		}
		result, err := schema.Validate(gojsonschema.NewGoLoader(obj))
		if err != nil {
			panic(err)
		}
		if !result.Valid() {
			invalid++
		}
	}
	fmt.Printf("%d %d %.3f\n", objects, invalid, time.Since(start).Seconds())
}
