package webui_test

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parc-project/parc/controlplane/servertest"
)

// browserTimeout bounds the browser part of the test; starting the server
// and its simulated agents comes before.
const browserTimeout = 60 * time.Second

// chromium finds Debian's chromium; without it the test is skipped on a
// developer's machine and fails in CI, where make test installs it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium not found: make test installs Debian's chromium (TEST_DEBS)")
	}
	t.Skip("chromium not found: apt-get install chromium")
	return ""
}

// screenshotDir is where the test keeps a screenshot per page:
// $PARC_SCREENSHOTS, else testdata/screenshots of this package (git
// ignores it).
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("PARC_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join("testdata", "screenshots")
	}
	dir, _ = filepath.Abs(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", dir)
	return dir
}

// serverSPKI is the base64 SHA-256 of the server's public key: chromium
// accepts that one certificate (signed by the server's own CA) and no
// other, as an agent pinning the CA would.
func serverSPKI(t *testing.T, s *servertest.Server) string {
	t.Helper()
	u, _ := url.Parse(s.URL)
	conn, err := tls.Dial("tcp", u.Host, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatalf("reading the server's certificate: %v", err)
	}
	defer conn.Close()
	sum := sha256.Sum256(conn.ConnectionState().PeerCertificates[0].RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// closedNetwork are chromium's flags for a machine without internet:
// nothing is fetched in the background, nothing reports home.
func closedNetwork(t *testing.T, exe, spki string) []chromedp.ExecAllocatorOption {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-crash-reporter", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("safebrowsing-disable-auto-update", true),
		chromedp.Flag("dns-prefetch-disable", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.Flag("accept-lang", "en-US,en"),
		chromedp.Flag("ignore-certificate-errors-spki-list", spki),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // chromium refuses its sandbox as root
	}
	return opts
}

// TestBrowser drives chromium through a technician's and a coordinator's
// day: sign in, the work list, a check-out that the continuity count
// sees, and the switch to French.
func TestBrowser(t *testing.T) {
	exe := chromium(t)
	s := fleet(t)
	shots := screenshotDir(t)

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), closedNetwork(t, exe, serverSPKI(t, s))...)
	defer cancelAlloc()
	browserCtx, cancelBrowser := chromedp.NewContext(alloc, chromedp.WithErrorf(t.Logf))
	defer cancelBrowser()
	// The first action starts the browser, which lives as long as the
	// context of that call: no timeout on it, one on everything after.
	if err := chromedp.Do(browserCtx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	ctx, cancel := context.WithTimeout(browserCtx, browserTimeout)
	defer cancel()

	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			png, err := chromedp.FullScreenshot(100)(ctx, tg)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644)
		})
	}
	run := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("reading %s: %v", sel, err)
		}
		return strings.TrimSpace(v)
	}
	location := func() string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			t.Fatalf("reading the location: %v", err)
		}
		return v
	}
	number := func(sel string) int {
		t.Helper()
		v := text(sel)
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("%s shows %q, not a number", sel, v)
		}
		return n
	}
	visible := func(id string) chromedp.Action[chromedp.Void] { return chromedp.WaitVisible(chromedp.ID(id)) }

	run("opening the UI signed out", chromedp.Navigate(s.URL+"/"), visible("signin"), shot("signin"))
	if loc := location(); !strings.Contains(loc, "/ui/signin") {
		t.Errorf("signed out, / lands on %s, want the sign-in page", loc)
	}
	run("signing in",
		chromedp.SendKeys(chromedp.ID("token"), s.AdminToken()),
		chromedp.Submit(chromedp.ID("token")),
		visible("overview"),
		shot("overview"))
	if n := number("#total-available"); n != len(readyLoaners) {
		t.Errorf("overview: %d loaners available, want %d", n, len(readyLoaners))
	}

	run("opening the work list", chromedp.Navigate(s.URL+"/ui/work"), visible("worklist"), shot("work"))
	if work := text("#worklist"); !strings.Contains(work, "LP-0003") || strings.Contains(work, "LP-0001") {
		t.Errorf("work list should hold LP-0003 (never seen), not LP-0001 (ready):\n%s", work)
	}
	run("filtering the work list by site (the select submits itself)",
		chromedp.SetValue(chromedp.CSS(`select[name="site"]`), "ecole-curie"),
		chromedp.Submit(chromedp.ID("work-filters")),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/ui/units/PC-C-201"]`)))
	if work := text("#worklist"); strings.Contains(work, "LP-0003") || !strings.Contains(work, "PC-C-201") {
		t.Errorf("work list of ecole-curie:\n%s", work)
	}
	run("a unit's page", chromedp.Navigate(s.URL+"/ui/units/LP-0001"), visible("unit"), shot("unit"))
	if r := text("#readiness"); r != "Ready" {
		t.Errorf("LP-0001's page says %q, want Ready", r)
	}
	run("carts and classrooms", chromedp.Navigate(s.URL+"/ui/places"), visible("cart-CHARIOT-J1"), shot("places"))
	run("import", chromedp.Navigate(s.URL+"/ui/import"), visible("import-form"), shot("import"))

	run("continuity before", chromedp.Navigate(s.URL+"/ui/continuity"), visible("continuity"), shot("continuity"))
	before := number("#available-now")
	if before != len(readyLoaners) {
		t.Errorf("continuity: %d available now, want %d", before, len(readyLoaners))
	}

	run("checking out LP-0001",
		chromedp.Navigate(s.URL+"/ui/loans"),
		visible("checkout"),
		shot("loans"),
		chromedp.SendKeys(chromedp.ID("checkout-unit"), "LP-0001"),
		chromedp.SendKeys(chromedp.ID("checkout-borrower"), "S-0042"),
		chromedp.Click(chromedp.ID("checkout-submit")),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
		shot("loans-after-checkout"))
	if flash := text(".flash"); !strings.Contains(flash, "Loan recorded") {
		t.Errorf("after the check-out the page says %q", flash)
	}
	run("continuity after", chromedp.Navigate(s.URL+"/ui/continuity"), visible("continuity"))
	if after := number("#available-now"); after != before-1 {
		t.Errorf("available now: %d after one check-out, want %d", after, before-1)
	}
	if n := availableNow(t, s); n != before-1 {
		t.Errorf("parcctl continuity says %d available, want %d", n, before-1)
	}

	run("switching to French",
		chromedp.Click(chromedp.ID("lang-switch")),
		chromedp.WaitVisible(chromedp.CSS(`html[lang="fr"] #continuity`)),
		shot("continuity-fr"))
	if h1, loc := text("h1"), location(); h1 != "Plan de continuité" || !strings.HasSuffix(loc, "/ui/continuity") {
		t.Errorf("after the switch: %q at %s, want the continuity page in French", h1, loc)
	}
	run("the work list in French on a phone",
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(s.URL+"/ui/work"),
		visible("worklist"),
		shot("work-fr-phone"))
	if h1 := text("h1"); !strings.HasPrefix(h1, "Liste de travail") {
		t.Errorf("work list after the switch: %q, want French", h1)
	}
}
