package continuity

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/parc-project/parc/controlplane/adminapi"
	"github.com/parc-project/parc/controlplane/audit"
	"github.com/parc-project/parc/controlplane/sheet"
	"github.com/parc-project/parc/controlplane/store"
)

// Categories of students needing a device, and the order in which the
// organisation's own available loaners go to them: students at risk and
// with special needs first, as the ministry's reserve is meant for them
// only after the service centre served them itself.
var Categories = []string{adminapi.NeedAtRisk, adminapi.NeedSpecialNeeds, adminapi.NeedNoDevice,
	adminapi.NeedNoExclusiveDevice, adminapi.NeedAlternating}

// DeviceTypes of needs.
var DeviceTypes = []string{adminapi.DeviceLaptop, adminapi.DeviceTablet}

// Needs keeps the recorded needs per site.
type Needs struct {
	store *store.Store
	audit *audit.Log
	log   *slog.Logger
	now   func() time.Time
	Cache *store.Cache[adminapi.SiteNeeds]
}

// NewNeeds returns the needs register; run its Cache.
func NewNeeds(s *store.Store, a *audit.Log, log *slog.Logger, now func() time.Time) *Needs {
	return &Needs{store: s, audit: a, log: log, now: now, Cache: store.NewCache[adminapi.SiteNeeds](s, store.KindNeeds, log)}
}

// InputError is a request to correct; nothing changed.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

// validate checks and normalises a site's needs: known categories and
// device types, each once, counts from 0 to 100,000.
func validate(n *adminapi.SiteNeeds) error {
	if err := store.ValidID(n.Site); err != nil {
		return &InputError{"site: " + err.Error()}
	}
	seen := map[string]bool{}
	var kept []adminapi.Need
	for _, need := range n.Needs {
		if need.DeviceType == "" {
			need.DeviceType = adminapi.DeviceLaptop
		}
		switch {
		case !slices.Contains(Categories, need.Category):
			return &InputError{fmt.Sprintf("category %.40q: want one of %s", need.Category, strings.Join(Categories, ", "))}
		case !slices.Contains(DeviceTypes, need.DeviceType):
			return &InputError{fmt.Sprintf("device type %.40q: want laptop or tablet", need.DeviceType)}
		case need.Count < 0 || need.Count > 100_000:
			return &InputError{fmt.Sprintf("count %d for %s: want 0 to 100000", need.Count, need.Category)}
		case seen[need.Category+"/"+need.DeviceType]:
			return &InputError{fmt.Sprintf("%s %s given twice", need.Category, need.DeviceType)}
		}
		seen[need.Category+"/"+need.DeviceType] = true
		if need.Count > 0 {
			kept = append(kept, need)
		}
	}
	n.Needs = kept
	return nil
}

// Set replaces the needs of the sites given, all or nothing, each change
// with its audit entry in the same transaction.
func (s *Needs) Set(ctx context.Context, sites []adminapi.SiteNeeds, by string) error {
	var ops []clientv3.Op
	for i := range sites {
		n := &sites[i]
		if err := validate(n); err != nil {
			return err
		}
		n.UpdatedAt, n.UpdatedBy = s.now().UTC(), by
		data, err := store.Encode(n)
		if err != nil {
			return err
		}
		old, _ := s.Cache.Get(n.Site)
		entry, err := s.audit.Op(ctx, audit.Entry{Action: "needs.set", Object: "needs/" + n.Site, Site: n.Site,
			Before: audit.Snapshot(old.Needs), After: audit.Snapshot(n.Needs)})
		if err != nil {
			return err
		}
		ops = append(ops, clientv3.OpPut(s.store.Key(store.KindNeeds, n.Site), string(data)), entry)
	}
	if len(ops) > store.MaxTxnOps {
		return &InputError{fmt.Sprintf("%d sites at once: at most %d per file", len(sites), store.MaxTxnOps/2)}
	}
	if _, err := s.store.Client.Txn(ctx).Then(ops...).Commit(); err != nil {
		return fmt.Errorf("recording needs: %w", err)
	}
	for _, n := range sites {
		s.Cache.Set(n.Site, n)
	}
	return nil
}

// Requests totals each site's needs.
func (s *Needs) Requests() map[string]int {
	out := map[string]int{}
	s.Cache.Range(func(site string, n adminapi.SiteNeeds) bool {
		for _, need := range n.Needs {
			out[site] += need.Count
		}
		return true
	})
	return out
}

// All lists every site's needs, by site.
func (s *Needs) All() []adminapi.SiteNeeds {
	var out []adminapi.SiteNeeds
	s.Cache.Range(func(_ string, n adminapi.SiteNeeds) bool { out = append(out, n); return true })
	slices.SortFunc(out, func(a, b adminapi.SiteNeeds) int { return strings.Compare(a.Site, b.Site) })
	return out
}

var needsFormat = sheet.Format{
	Aliases: map[string]string{
		"site": "site", "school": "site", "etablissement": "site", "ecole": "site",
		"category": "category", "categorie": "category", "eligibility": "category", "admissibilite": "category",
		"device type": "device", "device": "device", "type d appareil": "device", "appareil": "device", "type": "device",
		"count": "count", "students": "count", "number": "count", "nombre": "count", "eleves": "count", "nombre d eleves": "count",
	},
	Required: []string{"site", "category", "count"},
	Example:  map[string]string{"site": `site" or "établissement`, "category": `category" or "catégorie`, "count": `count" or "nombre`},
	MaxBytes: 1 << 20, MaxRows: 10_000, MaxColumns: 16, MaxFieldLen: 256,
}

// categoryAliases accepts categories as people write them.
var categoryAliases = map[string]string{
	"no device": adminapi.NeedNoDevice, "no device at home": adminapi.NeedNoDevice, "aucun appareil": adminapi.NeedNoDevice,
	"sans appareil": adminapi.NeedNoDevice, "aucun appareil a la maison": adminapi.NeedNoDevice,
	"no exclusive device": adminapi.NeedNoExclusiveDevice, "shared device": adminapi.NeedNoExclusiveDevice,
	"appareil partage": adminapi.NeedNoExclusiveDevice, "pas d appareil exclusif": adminapi.NeedNoExclusiveDevice,
	"alternating attendance": adminapi.NeedAlternating, "alternating": adminapi.NeedAlternating,
	"presence en alternance": adminapi.NeedAlternating, "alternance": adminapi.NeedAlternating,
	"at risk": adminapi.NeedAtRisk, "a risque": adminapi.NeedAtRisk, "vulnerable": adminapi.NeedAtRisk,
	"special needs": adminapi.NeedSpecialNeeds, "besoins particuliers": adminapi.NeedSpecialNeeds, "ehdaa": adminapi.NeedSpecialNeeds,
}

var deviceAliases = map[string]string{
	"": adminapi.DeviceLaptop, "laptop": adminapi.DeviceLaptop, "portable": adminapi.DeviceLaptop, "ordinateur portable": adminapi.DeviceLaptop,
	"tablet": adminapi.DeviceTablet, "tablette": adminapi.DeviceTablet,
}

// LineError is a bad line of a needs file.
type LineError = adminapi.LineError

// Import reads a needs file (site, category, device type, count) and
// replaces the needs of every site it names, all or nothing.
func (s *Needs) Import(ctx context.Context, r io.Reader, by string) ([]adminapi.SiteNeeds, []LineError, error) {
	rows, lineErrs, _, err := sheet.Read(r, needsFormat)
	if err != nil {
		return nil, nil, err
	}
	var errs []LineError
	for _, e := range lineErrs {
		errs = append(errs, LineError{Line: e.Line, Message: e.Message})
	}
	bySite := map[string]*adminapi.SiteNeeds{}
	var order []string
	for _, row := range rows {
		bad := func(format string, args ...any) {
			errs = append(errs, LineError{Line: row.Line, Message: fmt.Sprintf(format, args...)})
		}
		site := row.Get("site")
		cat, ok := categoryAliases[sheet.Normalize(row.Get("category"))]
		if !ok && slices.Contains(Categories, row.Get("category")) {
			cat, ok = row.Get("category"), true
		}
		if !ok {
			bad("category %q: want no device, no exclusive device, alternating attendance, at risk or special needs", row.Get("category"))
			continue
		}
		dev, ok := deviceAliases[sheet.Normalize(row.Get("device"))]
		if !ok {
			bad("device type %q: want laptop or tablet", row.Get("device"))
			continue
		}
		count, err := strconv.Atoi(row.Get("count"))
		if err != nil {
			bad("count %q: want a number", row.Get("count"))
			continue
		}
		n := bySite[site]
		if n == nil {
			n = &adminapi.SiteNeeds{Site: site}
			bySite[site] = n
			order = append(order, site)
		}
		n.Needs = append(n.Needs, adminapi.Need{Category: cat, DeviceType: dev, Count: count})
		probe := adminapi.SiteNeeds{Site: site, Needs: slices.Clone(n.Needs)}
		if err := validate(&probe); err != nil {
			bad("%v", err)
		}
	}
	if len(errs) > 0 {
		return nil, errs, nil
	}
	sites := make([]adminapi.SiteNeeds, 0, len(order))
	for _, site := range order {
		sites = append(sites, *bySite[site])
	}
	if err := s.Set(ctx, sites, by); err != nil {
		var ie *InputError
		if errors.As(err, &ie) {
			return nil, []LineError{{Line: 1, Message: ie.Msg}}, nil
		}
		return nil, nil, err
	}
	return sites, nil, nil
}
