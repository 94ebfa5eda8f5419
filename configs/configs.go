// Package configs holds parc's example and default configuration files.
// The defaults the binaries need when no file is given are embedded here,
// so the file a user reads is the file the server runs with.
package configs

import _ "embed"

// Readiness is the default readiness rules file, readiness.yaml.
//
//go:embed readiness.yaml
var Readiness []byte
