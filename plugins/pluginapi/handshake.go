package pluginapi

import "github.com/hashicorp/go-plugin"

// ProtocolVersion is the version of the agent–plugin protocol. Raise it only
// when a change breaks plugins built against the previous version: an agent
// then refuses an old plugin at the handshake, with an error in the report,
// rather than misreading its answers.
//
// History:
//
//	1 (parc 0.1): Describe and Collect; facts and per-fact errors as JSON
//	  carried in google.protobuf.BytesValue (see grpc.go).
const ProtocolVersion = 1

// Handshake returns the handshake both sides must agree on. It is a function,
// not a package variable, so that no caller can change it for everyone.
//
// The magic cookie is not security (SecureConfig's SHA-256 is): it only makes
// a plugin binary started by hand say it is a plugin instead of hanging.
func Handshake() plugin.HandshakeConfig {
	return plugin.HandshakeConfig{
		ProtocolVersion:  ProtocolVersion,
		MagicCookieKey:   "PARC_PLUGIN_MAGIC_COOKIE",
		MagicCookieValue: "54e213c9c27f4596abd9bad5537c250ef859f87b4ac9b6501e1d68dced7b5837",
	}
}

// PluginKey is the name under which a plugin binary serves its Collector in
// go-plugin's plugin map. Every parc plugin serves exactly one.
const PluginKey = "collector"

// PluginSet returns the plugin map for go-plugin. impl is nil on the host
// side (which only dispenses clients) and the Collector on the plugin side.
func PluginSet(impl Collector) plugin.PluginSet {
	return plugin.PluginSet{PluginKey: &GRPCPlugin{Impl: impl}}
}
