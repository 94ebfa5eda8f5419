package pluginhost

import (
	"context"
	"io"
	"log/slog"

	"github.com/hashicorp/go-hclog"
)

// newHCLogger adapts the agent's slog logger to the hclog.Logger go-plugin
// wants. go-plugin narrates every start and stop at Info ("starting plugin",
// "plugin process exited"); the agent starts each plugin every cycle, so that
// is Debug noise to us. Its warnings and errors, and the log lines a plugin
// writes on stderr, keep their level.
func newHCLogger(log *slog.Logger) hclog.Logger {
	level := hclog.Warn
	if log.Enabled(context.Background(), slog.LevelDebug) {
		level = hclog.Trace
	}
	// The intercept logger's own output is discarded: everything reaches
	// slog through the sink. Its level still matters, since go-plugin skips
	// parsing a plugin's stderr when the logger is off.
	l := hclog.NewInterceptLogger(&hclog.LoggerOptions{Output: io.Discard, Level: level})
	l.RegisterSink(slogSink{log: log, min: level})
	return l
}

type slogSink struct {
	log *slog.Logger
	min hclog.Level
}

// Accept implements hclog.SinkAdapter.
func (s slogSink) Accept(name string, level hclog.Level, msg string, args ...any) {
	if level < s.min || level == hclog.Off {
		return
	}
	lvl := slog.LevelDebug
	switch level {
	case hclog.Warn:
		lvl = slog.LevelWarn
	case hclog.Error:
		lvl = slog.LevelError
	}
	if name != "" {
		args = append(args, "component", name)
	}
	s.log.Log(context.Background(), lvl, msg, args...)
}
