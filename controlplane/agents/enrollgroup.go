package agents

import (
	"context"
	"sync"
	"time"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/controlplane/auth"
	"github.com/parc-project/parc/controlplane/store"
)

// enrollGroups commits together the enrolments that redeem one enroll
// token at the same moment. Each enrolment counts a use of the token,
// whose record etcd can change once per transaction: one enrolment per
// transaction would cap a classroom (or a simulator) enrolling at once at
// one agent per etcd round trip, and make the others conflict and retry.
// While one group commits, the next one gathers.
type enrollGroups struct {
	mu      sync.Mutex
	waiting map[string][]*enrollCall // by credential: one group per token and secret
	running map[string]bool
}

type enrollCall struct {
	req  agentapi.EnrollRequest
	done chan enrollResult
}

type enrollResult struct {
	resp agentapi.EnrollResponse
	err  error
}

// maxEnrollGroup keeps a group's transaction within etcd's limit: the
// token, then an agent and its audit entry per enrolment.
const maxEnrollGroup = (store.MaxTxnOps - 1) / 2

// enrollGroupTimeout bounds one group's work, which no single request's
// context owns.
const enrollGroupTimeout = 30 * time.Second

// join queues an enrolment with cred and returns where its result will
// arrive. The first caller of an idle token starts the goroutine that
// commits groups until none is waiting.
func (g *enrollGroups) join(cred auth.Credential, req agentapi.EnrollRequest,
	commit func(context.Context, auth.Credential, []*enrollCall)) <-chan enrollResult {
	call := &enrollCall{req: req, done: make(chan enrollResult, 1)}
	key := cred.String()
	g.mu.Lock()
	if g.waiting == nil {
		g.waiting, g.running = make(map[string][]*enrollCall), make(map[string]bool)
	}
	g.waiting[key] = append(g.waiting[key], call)
	start := !g.running[key]
	g.running[key] = true
	g.mu.Unlock()
	if start {
		go func() {
			for {
				g.mu.Lock()
				batch := g.waiting[key]
				if len(batch) == 0 {
					delete(g.waiting, key)
					delete(g.running, key)
					g.mu.Unlock()
					return
				}
				n := min(len(batch), maxEnrollGroup)
				g.waiting[key] = batch[n:]
				g.mu.Unlock()
				ctx, cancel := context.WithTimeout(context.Background(), enrollGroupTimeout)
				commit(ctx, cred, batch[:n])
				cancel()
			}
		}()
	}
	return call.done
}

func answerAll(calls []*enrollCall, res enrollResult) {
	for _, c := range calls {
		c.done <- res
	}
}
