// Package pluginapi is the seam between parc-agent and its plugins, the one
// small package both sides import: the handshake, the Collector interface,
// its gRPC adapters and Serve, so that a plugin's main is three lines.
//
// A plugin is a separate process (hashicorp/go-plugin over gRPC). It is
// started by the agent only to collect and killed after, so a plugin that
// crashes, leaks or hangs costs its own result, never the agent.
package pluginapi
