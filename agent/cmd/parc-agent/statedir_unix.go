//go:build !windows && !darwin

package main

const defaultStateDir = "/var/lib/parc-agent"
