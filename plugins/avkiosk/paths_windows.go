package main

// The ClamAV Windows installer puts its databases beside the program.
const defaultDatabaseDir = `C:\Program Files\ClamAV\database`

func defaultScanLogs() []string { return []string{`C:\ProgramData\ClamAV\kiosk-scan.log`} }
