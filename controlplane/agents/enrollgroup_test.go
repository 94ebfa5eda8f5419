package agents

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/controlplane/audit"
	"github.com/parc-project/parc/controlplane/auth"
	"github.com/parc-project/parc/controlplane/httpapi"
	"github.com/parc-project/parc/controlplane/servertest"
	"github.com/parc-project/parc/controlplane/store"
)

// TestConcurrentEnrolmentsCountEveryUse enrols many agents at once with
// one token limited to fewer uses than there are agents, and with one
// without limit: grouped into shared transactions, exactly the uses the
// token allows succeed, each agent gets its own record and audit entry,
// and the token counts every use.
func TestConcurrentEnrolmentsCountEveryUse(t *testing.T) {
	tests := []struct {
		name           string
		maxUses, tries int
		wantEnrolled   int
	}{
		{"limited token", 70, 150, 70},
		{"unlimited token", 0, 150, 150},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			st := store.New(servertest.Client(t, servertest.StartEtcd(t).Endpoint), "/t")
			now := func() time.Time { return time.Unix(1_800_000_000, 0).UTC() }
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			tokens := auth.NewEnrollTokens(st, now)
			cred, tok, err := tokens.Create(ctx, auth.EnrollToken{Site: "ecole-a", MaxUses: tt.maxUses}, 0)
			if err != nil {
				t.Fatal(err)
			}
			s := &Service{Store: st, Registry: NewRegistry(st, log, now, ttl), EnrollTokens: tokens,
				Audit: audit.New(st, now), Now: now, Log: log}
			handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if err := s.enroll(w, r); err != nil {
					httpapi.WriteError(w, r, log, err)
				}
			})

			var mu sync.Mutex
			codes := map[int]int{}
			ids := map[string]bool{}
			var wg sync.WaitGroup
			for i := range tt.tries {
				wg.Go(func() {
					body, _ := json.Marshal(agentapi.EnrollRequest{Token: cred.String(), Hostname: fmt.Sprintf("lp-%03d", i)})
					rec := httptest.NewRecorder()
					handler.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, agentapi.PathEnroll, bytes.NewReader(body)))
					var resp agentapi.EnrollResponse
					json.Unmarshal(rec.Body.Bytes(), &resp)
					mu.Lock()
					codes[rec.Code]++
					if rec.Code == http.StatusCreated {
						ids[resp.AgentID] = true
					}
					mu.Unlock()
				})
			}
			wg.Wait()
			if codes[http.StatusCreated] != tt.wantEnrolled || len(ids) != tt.wantEnrolled ||
				codes[http.StatusUnauthorized] != tt.tries-tt.wantEnrolled {
				t.Fatalf("answers %v, %d distinct agents; want %d enrolled, the rest refused", codes, len(ids), tt.wantEnrolled)
			}
			got, _, err := tokens.Get(ctx, tok.ID)
			if err != nil || got.Uses != tt.wantEnrolled {
				t.Errorf("token counts %d uses (%v), want %d", got.Uses, err, tt.wantEnrolled)
			}
			for prefix, want := range map[string]int{st.Prefix(store.KindAgents): tt.wantEnrolled, st.Prefix(store.KindAudit): tt.wantEnrolled} {
				resp, err := st.Client.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
				if err != nil || int(resp.Count) != want {
					t.Errorf("%s: %d keys (%v), want %d", prefix, resp.Count, err, want)
				}
			}
			for id := range ids {
				if _, err := s.Registry.Get(ctx, id); err != nil {
					t.Errorf("agent %s enrolled but not in the registry: %v", id, err)
				}
			}
		})
	}
}
