// Package agentapi holds the wire types of the agent API: what parc-agent
// sends to parc-server (enrollment, reports, heartbeats) and what it gets
// back. The agent, the plugins, parc-sim and the server all import this one
// package, so a field is defined once.
//
// Compatibility: fields are only ever added. The server tolerates and drops
// unknown fields from agents (a newer agent talking to an older server), and
// an agent ignores unknown fields in answers.
package agentapi

// SchemaVersion is the version of the report layout this package describes.
// It changes only when a field changes meaning, never when one is added.
const SchemaVersion = 1

// Paths of the agent API, relative to the server's base URL.
const (
	PathEnroll    = "/api/v1/enroll"
	PathCheckin   = "/api/v1/checkin"
	PathSpeedtest = "/api/v1/speedtest"
	// PathCA serves the server's CA bundle (PEM) to anyone: an agent
	// fetches it before enrolling and pins the certificate whose hash its
	// enroll token carries.
	PathCA = "/api/v1/ca"
	// PathCredentialRotate gives an agent a new credential, valid beside
	// the current one until confirmed; PathCredentialConfirm, called with
	// the new credential, makes it the only one.
	PathCredentialRotate  = "/api/v1/credential/rotate"
	PathCredentialConfirm = "/api/v1/credential/confirm"
)

// MaxBodyBytes bounds every agent API request body. A report of a machine
// with many disks and interfaces stays far below it.
const MaxBodyBytes = 1 << 20

// SpeedtestMaxBytes bounds one speed test's download: 25 MB, enough for two
// seconds of a 100 Mbps link.
const SpeedtestMaxBytes = 25_000_000
