package webui_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parc-project/parc/controlplane/adminapi"
	"github.com/parc-project/parc/controlplane/servertest"
)

// missingKey matches a catalog key shown as itself: a string the catalog
// lacks.
var missingKey = regexp.MustCompile(`\[[a-z_]+\.[a-z_.]+\]`)

// TestUI drives the UI's handlers on a real server with the example
// inventory and simulated loaners reporting ready.
func TestUI(t *testing.T) {
	s := fleet(t)
	admin := s.AdminToken()
	viewerToken := strings.TrimSpace(servertest.Run(t, s.Env(), "parcctl", "tokens", "create", "--name", "guest", "--role", "viewer", "--quiet"))
	due := time.Now().AddDate(0, 0, 14).Format(time.DateOnly)

	t.Run("root redirects to the UI, which asks to sign in", func(t *testing.T) {
		c := browser(t, s)
		resp, err := c.Get(s.URL + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/" {
			t.Errorf("GET /: %d to %q, want 303 to /ui/", resp.StatusCode, resp.Header.Get("Location"))
		}
		resp, err = c.Get(s.URL + "/ui/work?site=ecole-curie")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/ui/signin?next=%2Fui%2Fwork%3Fsite%3Decole-curie" {
			t.Errorf("GET /ui/work signed out: %d to %q, want 303 to the sign-in page coming back", resp.StatusCode, loc)
		}
	})

	t.Run("sign-in sets a hardened session cookie; sign-out ends the session", func(t *testing.T) {
		c := browser(t, s)
		resp, body := post(t, c, s, "/ui/signin", url.Values{"token": {"pu_nosuchtoken.secret"}})
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "unknown, revoked or expired") {
			t.Errorf("wrong token: %d, want 401 saying so\n%s", resp.StatusCode, body)
		}
		resp, _ = post(t, c, s, "/ui/signin", url.Values{"token": {admin}, "next": {"https://evil.example/"}})
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/" {
			t.Errorf("sign-in with a foreign next: %d to %q, want 303 to /ui/", resp.StatusCode, resp.Header.Get("Location"))
		}
		var cookie *http.Cookie
		for _, ck := range resp.Cookies() {
			if ck.Name == "__Host-parc_session" {
				cookie = ck
			}
		}
		if cookie == nil || !cookie.HttpOnly || !cookie.Secure || cookie.SameSite != http.SameSiteLaxMode || cookie.Path != "/" || cookie.Domain != "" {
			t.Fatalf("session cookie %+v: want __Host-parc_session, HttpOnly, Secure, SameSite=Lax, Path=/", cookie)
		}
		if st, body := get(t, c, s.URL+"/ui/"); st != http.StatusOK || !strings.Contains(body, "ecole-jaures") {
			t.Fatalf("overview after sign-in: %d\n%s", st, body)
		}
		// A second client holding only the cookie is signed in too: the
		// session lives in etcd, not in this client.
		other := browser(t, s)
		u, _ := url.Parse(s.URL)
		other.Jar.SetCookies(u, []*http.Cookie{{Name: cookie.Name, Value: cookie.Value}})
		if st, _ := get(t, other, s.URL+"/ui/work"); st != http.StatusOK {
			t.Errorf("work list with the copied cookie: %d, want 200", st)
		}
		_, page := get(t, c, s.URL+"/ui/")
		resp, _ = post(t, c, s, "/ui/signout", url.Values{"csrf": {csrfOf(t, page)}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Errorf("sign-out: %d, want 303", resp.StatusCode)
		}
		if st, _ := get(t, other, s.URL+"/ui/work"); st != http.StatusSeeOther {
			t.Errorf("work list with the cookie of a closed session: %d, want 303 to sign in", st)
		}
	})

	t.Run("revoking the token ends its sessions", func(t *testing.T) {
		var tok adminapi.Token
		out := servertest.Run(t, s.Env(), "parcctl", "tokens", "create", "--name", "leaver", "--role", "technician", "-o", "json")
		if err := json.Unmarshal([]byte(out), &tok); err != nil {
			t.Fatalf("parcctl tokens create: %v\n%s", err, out)
		}
		c := browser(t, s)
		signIn(t, c, s, tok.Token)
		if st, _ := get(t, c, s.URL+"/ui/work"); st != http.StatusOK {
			t.Fatalf("technician's work list: %d", st)
		}
		servertest.Run(t, s.Env(), "parcctl", "tokens", "revoke", tok.ID)
		servertest.Eventually(t, 30*time.Second, "the session refused after the revocation", func() (bool, string) {
			st, _ := get(t, c, s.URL+"/ui/work")
			return st == http.StatusSeeOther, fmt.Sprintf("status %d", st)
		})
	})

	t.Run("every page renders for an admin, with every string in the catalog", func(t *testing.T) {
		c := browser(t, s)
		signIn(t, c, s, admin)
		for _, lang := range []string{"en", "fr"} {
			for _, path := range []string{"/ui/", "/ui/work", "/ui/work?site=ecole-jaures&role=loaner&rule=never-seen", "/ui/units/LP-0001",
				"/ui/units/KIOSK-J", "/ui/loans", "/ui/loans?list=all", "/ui/places", "/ui/places?site=ecole-jaures", "/ui/continuity", "/ui/import"} {
				st, body := get(t, c, s.URL+path, "Accept-Language", lang)
				if st != http.StatusOK {
					t.Errorf("%s (%s): %d\n%s", path, lang, st, body)
					continue
				}
				if m := missingKey.FindString(body); m != "" {
					t.Errorf("%s (%s) shows %s: a string missing from the catalog", path, lang, m)
				}
			}
		}
		if _, body := get(t, c, s.URL+"/ui/units/LP-0001"); !strings.Contains(body, "PF3A0001") || !strings.Contains(body, ">Ready<") {
			t.Errorf("unit page of LP-0001 lacks its serial or readiness:\n%s", body)
		}
		if st, _ := get(t, c, s.URL+"/ui/units/NO-SUCH"); st != http.StatusNotFound {
			t.Errorf("unknown unit: %d, want 404", st)
		}
	})

	t.Run("forms without the session's CSRF token or from another site are refused", func(t *testing.T) {
		c := browser(t, s)
		signIn(t, c, s, admin)
		_, page := get(t, c, s.URL+"/ui/loans")
		token := csrfOf(t, page)
		form := func(csrf string) url.Values {
			return url.Values{"csrf": {csrf}, "unit": {"LP-0002"}, "borrower": {"S-CSRF"}, "borrower_type": {"student"}, "due": {due}}
		}
		for _, tc := range []struct {
			name   string
			csrf   string
			header []string
		}{
			{"no token", "", nil},
			{"another token", strings.Repeat("a", len(token)), nil},
			{"another site's page (Sec-Fetch-Site)", token, []string{"Sec-Fetch-Site", "cross-site"}},
			{"another origin", token, []string{"Origin", "https://evil.example"}},
		} {
			resp, _ := post(t, c, s, "/ui/loans/checkout", form(tc.csrf), tc.header...)
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s: %d, want 403", tc.name, resp.StatusCode)
			}
		}
		if l := loansOf(t, s); len(l) != 0 {
			t.Fatalf("refused forms recorded loans: %+v", l)
		}
		resp, body := post(t, c, s, "/ui/loans/checkout", form(token))
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("check-out with the token: %d\n%s", resp.StatusCode, body)
		}
		l := loansOf(t, s)
		if len(l) != 1 || l[0].Unit != "LP-0002" || l[0].Borrower != "S-CSRF" {
			t.Fatalf("loans after one check-out: %+v", l)
		}
		// The register shows the borrower to an admin, and that read is audited.
		if _, page := get(t, c, s.URL+"/ui/loans"); !strings.Contains(page, "S-CSRF") {
			t.Errorf("an admin's loans page lacks the borrower id")
		}
		audit := servertest.Run(t, s.Env(), "parcctl", "audit", "--action", "personal-data.read", "-o", "json")
		if !strings.Contains(audit, "web UI loans?") {
			t.Errorf("no audit entry for the loans page's borrower ids:\n%s", audit)
		}
		resp, _ = post(t, c, s, "/ui/loans/change", url.Values{"csrf": {token}, "ref": {l[0].ID}, "action": {"return"}, "note": {"good"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Errorf("check-in: %d, want 303", resp.StatusCode)
		}
		if l := loansOf(t, s); l[0].State != "returned" {
			t.Errorf("loan after check-in is %s, want returned", l[0].State)
		}
	})

	t.Run("a viewer sees no check-out form nor borrower ids, and the server refuses its check-out", func(t *testing.T) {
		c := browser(t, s)
		signIn(t, c, s, viewerToken)
		st, page := get(t, c, s.URL+"/ui/loans?list=all")
		if st != http.StatusOK {
			t.Fatalf("viewer's loans page: %d", st)
		}
		for _, absent := range []string{`action="/ui/loans/checkout"`, `action="/ui/loans/change"`, "S-CSRF", ">Borrower id<", `href="/ui/import"`} {
			if strings.Contains(page, absent) {
				t.Errorf("viewer's loans page shows %q", absent)
			}
		}
		if st, _ := get(t, c, s.URL+"/ui/units/LP-0002"); st != http.StatusOK {
			t.Errorf("viewer's unit page: %d", st)
		}
		before := len(loansOf(t, s))
		resp, _ := post(t, c, s, "/ui/loans/checkout", url.Values{"csrf": {csrfOf(t, page)}, "unit": {"LP-0001"},
			"borrower": {"S-VIEW"}, "borrower_type": {"student"}, "due": {due}})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("viewer's direct check-out: %d, want 403", resp.StatusCode)
		}
		if st, _ := get(t, c, s.URL+"/ui/import"); st != http.StatusForbidden {
			t.Errorf("viewer's import page: %d, want 403", st)
		}
		if after := len(loansOf(t, s)); after != before {
			t.Errorf("viewer's refused check-out recorded a loan (%d → %d)", before, after)
		}
	})

	t.Run("language from Accept-Language, switched by a cookie", func(t *testing.T) {
		c := browser(t, s)
		signIn(t, c, s, admin)
		if _, body := get(t, c, s.URL+"/ui/work", "Accept-Language", "fr-FR,fr;q=0.9,en;q=0.5"); !strings.Contains(body, "Liste de travail") || !strings.Contains(body, `lang="fr"`) {
			t.Errorf("French browser: the work list is not in French")
		}
		if _, body := get(t, c, s.URL+"/ui/work", "Accept-Language", "en-GB,en;q=0.9"); !strings.Contains(body, "Work list") {
			t.Errorf("English browser: the work list is not in English")
		}
		resp, err := c.Get(s.URL + "/ui/lang?to=fr&back=%2Fui%2Fcontinuity")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/continuity" {
			t.Errorf("language switch: %d to %q, want 303 back to /ui/continuity", resp.StatusCode, resp.Header.Get("Location"))
		}
		if _, body := get(t, c, s.URL+"/ui/continuity", "Accept-Language", "en"); !strings.Contains(body, "Plan de continuité") || !strings.Contains(body, "disponibles = sur place") {
			t.Errorf("after switching to French, an English browser still gets English")
		}
	})

	t.Run("import shows a dry run, then applies on confirmation", func(t *testing.T) {
		c := browser(t, s)
		signIn(t, c, s, admin)
		_, page := get(t, c, s.URL+"/ui/import")
		token := csrfOf(t, page)
		csv := "asset_tag,serial,site,role\nLP-9001,SN9001,ecole-curie,loaner\n"
		resp, body := post(t, c, s, "/ui/import", url.Values{"csrf": {token}, "csv": {csv}})
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "1 to create") || !strings.Contains(body, `action="/ui/import/confirm"`) {
			t.Fatalf("preview: %d\n%s", resp.StatusCode, body)
		}
		if st, _ := get(t, c, s.URL+"/ui/units/LP-9001"); st != http.StatusNotFound {
			t.Errorf("after the preview LP-9001 exists (%d): a dry run wrote", st)
		}
		resp, body = post(t, c, s, "/ui/import/confirm", url.Values{"csrf": {token}, "csv": {csv}})
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "The inventory was imported") {
			t.Fatalf("confirm: %d\n%s", resp.StatusCode, body)
		}
		if st, _ := get(t, c, s.URL+"/ui/units/LP-9001"); st != http.StatusOK {
			t.Errorf("after confirming, LP-9001: %d, want 200", st)
		}
		resp, body = post(t, c, s, "/ui/import", url.Values{"csrf": {token}, "csv": {"asset_tag,site,role\nBAD TAG,x,nonsense\n"}})
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "line 2") {
			t.Errorf("bad file: %d, want 422 naming its line\n%s", resp.StatusCode, body)
		}
	})
}
