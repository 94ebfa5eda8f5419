package auth

import (
	"strings"
	"testing"
)

func TestParseCredential(t *testing.T) {
	good, _ := NewCredential(KindAgent)
	tests := []struct {
		in      string
		want    Credential
		wantErr bool
	}{
		{in: good.String(), want: good},
		{in: "  " + good.String() + "\n", want: good},
		{in: "pu_abc.def", want: Credential{Kind: KindUser, ID: "abc", Secret: "def"}},
		{in: "", wantErr: true},
		{in: "pe_abc", wantErr: true},
		{in: "pe_.def", wantErr: true},
		{in: "pe_abc.", wantErr: true},
		{in: "px_abc.def", wantErr: true},
		{in: "pa_ABC.def", wantErr: true},
		{in: "pa_ab/c.def", wantErr: true},
		{in: "pa_abc.de f", wantErr: true},
		{in: "pa_" + strings.Repeat("a", 65) + ".def", wantErr: true},
		{in: "pa_abc." + strings.Repeat("s", 129), wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseCredential(tt.in)
		if (err != nil) != tt.wantErr || (!tt.wantErr && got != tt.want) {
			t.Errorf("ParseCredential(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestSecretMatches(t *testing.T) {
	c, hash := NewCredential(KindUser)
	if !SecretMatches(hash, c.Secret) {
		t.Error("a credential does not match its own hash")
	}
	if SecretMatches(hash, c.Secret+"x") || SecretMatches(hash, "") {
		t.Error("a wrong secret matches")
	}
	if len(c.Secret) != 32 || len(c.ID) != 16 {
		t.Errorf("id %q and secret lengths %d, %d; want 16 and 32", c.ID, len(c.ID), len(c.Secret))
	}
}

func TestRoles(t *testing.T) {
	tests := []struct {
		role  Role
		perm  Permission
		allow bool
	}{
		{RoleAdmin, PermTokensAdmin, true},
		{RoleTechnician, PermFleetWrite, true},
		{RoleTechnician, PermLoansWrite, false},
		{RoleTechnician, PermBorrowersRead, false},
		{RoleCoordinator, PermLoansWrite, true},
		{RoleCoordinator, PermFleetWrite, false},
		{RoleViewer, PermFleetRead, true},
		{RoleViewer, PermBorrowersRead, false},
		{RoleViewer, PermLoansWrite, false},
		{Role("root"), PermFleetRead, false},
	}
	for _, tt := range tests {
		if got := tt.role.Allows(tt.perm); got != tt.allow {
			t.Errorf("%s allows %s = %v, want %v", tt.role, tt.perm, got, tt.allow)
		}
	}
	if p := (Principal{Kind: KindAgent, Role: RoleAdmin}); p.Allows(PermFleetRead) {
		t.Error("an agent principal passes an admin permission")
	}
}

// TestPermissionTable pins the whole role table, so that no change to who
// may do what passes unnoticed. The words: admin everything;
// technician units, readiness, imports, assignments (and enrollment);
// coordinator loans, continuity, reserve (with borrower ids, and their
// erasure on a borrower's request); viewer
// read-only, never borrower ids; tokens and the audit log, admins only.
// The cluster's state (who leads, which member is down) is technicians'
// work too; changing its members is an admin's.
func TestPermissionTable(t *testing.T) {
	want := map[Role][]Permission{
		RoleAdmin:       Permissions,
		RoleTechnician:  {PermFleetRead, PermFleetWrite, PermEnroll, PermLoansRead, PermClusterRead},
		RoleCoordinator: {PermFleetRead, PermLoansRead, PermLoansWrite, PermBorrowersRead, PermBorrowersErase},
		RoleViewer:      {PermFleetRead, PermLoansRead},
	}
	for _, role := range Roles {
		for _, perm := range Permissions {
			wantAllow := false
			for _, p := range want[role] {
				wantAllow = wantAllow || p == perm
			}
			if got := role.Allows(perm); got != wantAllow {
				t.Errorf("%s allows %s = %v, want %v", role, perm, got, wantAllow)
			}
		}
	}
	if len(want) != len(Roles) {
		t.Errorf("table covers %d roles, there are %d", len(want), len(Roles))
	}
	if Permission("fleet:admin").Known() || !PermAuditRead.Known() {
		t.Error("Known() does not tell permissions apart")
	}
}

// FuzzParseCredential: any bearer string parses or is refused without
// panicking; what parses is a known kind with a lowercase id and secret,
// and prints back to itself. Seeds in testdata/fuzz/FuzzParseCredential.
func FuzzParseCredential(f *testing.F) {
	good, _ := NewCredential(KindAgent)
	f.Add(good.String())
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCredential(s)
		if err != nil {
			return
		}
		switch c.Kind {
		case KindUser, KindEnroll, KindAgent:
		default:
			t.Fatalf("kind %q accepted", c.Kind)
		}
		for _, r := range c.ID + c.Secret {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
				t.Fatalf("%q accepted in %+v", r, c)
			}
		}
		if c.String() != strings.TrimSpace(s) {
			t.Fatalf("%q parsed to %+v, which prints as %q", s, c, c.String())
		}
	})
}
