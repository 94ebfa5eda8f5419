package reconcile

import (
	"encoding/json"
	"time"

	"github.com/parc-project/parc/controlplane/agents"
	"github.com/parc-project/parc/controlplane/inventory"
	"github.com/parc-project/parc/controlplane/lastseen"
	"github.com/parc-project/parc/controlplane/readiness"
	"github.com/parc-project/parc/controlplane/store"
)

// observedDigest is what the reconciler keeps of an agent's latest report.
type observedDigest struct {
	Identity   Identity
	Hostname   string
	ReceivedAt time.Time
	Facts      *readiness.Facts
}

func decodeObserved(_ string, data []byte) (observedDigest, error) {
	var obs agents.Observed
	if err := json.Unmarshal(data, &obs); err != nil {
		return observedDigest{}, err
	}
	h := obs.Report.Host
	d := observedDigest{Identity: Identity{Serial: h.Serial, UUID: h.HardwareUUID}, Hostname: h.Hostname, ReceivedAt: obs.ReceivedAt}
	for _, nic := range h.Interfaces {
		d.Identity.MACs = append(d.Identity.MACs, nic.MAC)
	}
	f := readiness.FactsFromReport(&obs.Report)
	d.Facts = &f
	return d, nil
}

func decodeLastSeen(_ string, data []byte) (time.Time, error) { return lastseen.Parse(data) }

// cacheSource reads units and agents from the caches.
type cacheSource struct {
	units    *store.Cache[inventory.Unit]
	agents   *store.Cache[agents.Agent]
	observed *store.Cache[observedDigest]
	seen     *store.Cache[time.Time]
}

func (c *cacheSource) Unit(tag string) (inventory.Unit, bool) { return c.units.Get(tag) }

func (c *cacheSource) Agent(id string) (*AgentView, bool) {
	a, ok := c.agents.Get(id)
	if !ok || a.Revoked {
		return nil, false
	}
	v := &AgentView{ID: a.ID, Hostname: a.Hostname, Site: a.Site, Role: a.Role,
		Identity: Identity{Serial: a.Serial, UUID: a.HardwareUUID, MACs: a.MACs}}
	if obs, ok := c.observed.Get(id); ok {
		v.Identity, v.Facts, v.LastSeen = obs.Identity, obs.Facts, obs.ReceivedAt
		if obs.Hostname != "" {
			v.Hostname = obs.Hostname
		}
	}
	if t, ok := c.seen.Get(id); ok && t.After(v.LastSeen) {
		v.LastSeen = t
	}
	return v, true
}

// identities lists every agent's identity, for matching.
func (c *cacheSource) identities() map[string]Identity {
	out := map[string]Identity{}
	c.agents.Range(func(id string, a agents.Agent) bool {
		if !a.Revoked {
			out[id] = Identity{Serial: a.Serial, UUID: a.HardwareUUID, MACs: a.MACs}
		}
		return true
	})
	c.observed.Range(func(id string, obs observedDigest) bool {
		if _, ok := out[id]; ok {
			out[id] = obs.Identity
		}
		return true
	})
	return out
}

func (c *cacheSource) declared() map[string]inventory.Unit {
	out := make(map[string]inventory.Unit, c.units.Len())
	c.units.Range(func(tag string, u inventory.Unit) bool {
		out[tag] = u
		return true
	})
	return out
}
