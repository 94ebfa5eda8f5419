package auth

import (
	"fmt"
	"slices"
)

// Role is what a person may do. Agents have no role: they may only use the
// agent API, for their own unit.
type Role string

// The roles, from most to least powerful.
const (
	RoleAdmin       Role = "admin"       // everything, including tokens and the audit log
	RoleTechnician  Role = "technician"  // units, readiness, imports, assignments, enrollment
	RoleCoordinator Role = "coordinator" // loans, continuity, reserve
	RoleViewer      Role = "viewer"      // read-only, never sees borrower ids
)

// Roles lists every role.
var Roles = []Role{RoleAdmin, RoleTechnician, RoleCoordinator, RoleViewer}

// ParseRole validates a role name.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if !slices.Contains(Roles, r) {
		return "", fmt.Errorf("unknown role %q (want admin, technician, coordinator or viewer)", s)
	}
	return r, nil
}

// Permission is one thing an admin API endpoint requires.
type Permission string

// Permissions. Each admin endpoint declares exactly one.
const (
	PermFleetRead      Permission = "fleet:read"      // units, sites, readiness, continuity numbers
	PermFleetWrite     Permission = "fleet:write"     // declared inventory, imports, assignments, sites
	PermEnroll         Permission = "enroll:write"    // enroll tokens, agent credentials (revoke, rotate)
	PermLoansRead      Permission = "loans:read"      // loans without borrower ids
	PermLoansWrite     Permission = "loans:write"     // check out, check in, needs
	PermBorrowersRead  Permission = "borrowers:read"  // borrower ids (personal data)
	PermBorrowersErase Permission = "borrowers:erase" // erase a borrower's data (right to erasure)
	PermTokensAdmin    Permission = "tokens:admin"    // user tokens
	PermAuditRead      Permission = "audit:read"      // the audit log
	PermClusterRead    Permission = "cluster:read"    // etcd members, who leads
	PermClusterAdmin   Permission = "cluster:admin"   // add and remove etcd members
)

// Permissions lists every permission; a route may require only these.
var Permissions = []Permission{PermFleetRead, PermFleetWrite, PermEnroll, PermLoansRead, PermLoansWrite,
	PermBorrowersRead, PermBorrowersErase, PermTokensAdmin, PermAuditRead, PermClusterRead, PermClusterAdmin}

// Known reports whether p is one of Permissions.
func (p Permission) Known() bool { return slices.Contains(Permissions, p) }

var grants = map[Role][]Permission{
	RoleAdmin:       Permissions,
	RoleTechnician:  {PermFleetRead, PermFleetWrite, PermEnroll, PermLoansRead, PermClusterRead},
	RoleCoordinator: {PermFleetRead, PermLoansRead, PermLoansWrite, PermBorrowersRead, PermBorrowersErase},
	RoleViewer:      {PermFleetRead, PermLoansRead},
}

// Allows reports whether role grants perm.
func (r Role) Allows(perm Permission) bool { return slices.Contains(grants[r], perm) }
