package main

import (
	"fmt"

	"github.com/parc-project/parc/plugins/pluginapi"
)

// config is the plugin's configuration; see sample.yaml.
type config struct {
	DatabaseDir string   `json:"database_dir"`
	ScanLogs    []string `json:"scan_logs"`
	RecentDays  int      `json:"recent_days"`
	ScanPath    string   `json:"scan_path"`
	Clamscan    string   `json:"clamscan"`
}

// maxInfections bounds the infections listed in one report: a stick full
// of malware must not fill the report; the count stays exact.
const maxInfections = 50

func loadConfig(raw []byte) (config, error) {
	c := config{DatabaseDir: defaultDatabaseDir, ScanLogs: defaultScanLogs(), RecentDays: 30, Clamscan: "clamscan"}
	if err := pluginapi.DecodeConfig(raw, &c); err != nil {
		return c, err
	}
	if c.RecentDays <= 0 {
		return c, fmt.Errorf("plugin configuration: recent_days is %d, want a positive number of days", c.RecentDays)
	}
	return c, nil
}
