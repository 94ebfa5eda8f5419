//go:build !windows && !darwin

package main

const defaultDatabaseDir = "/var/lib/clamav"

func defaultScanLogs() []string { return []string{"/var/log/clamav/kiosk-scan.log"} }
