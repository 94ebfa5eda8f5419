package main

// Homebrew on Apple silicon installs ClamAV under /opt/homebrew.
const defaultDatabaseDir = "/opt/homebrew/var/lib/clamav"

func defaultScanLogs() []string { return []string{"/opt/homebrew/var/log/clamav/kiosk-scan.log"} }
