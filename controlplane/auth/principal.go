package auth

import "context"

// Principal is who a request runs as.
type Principal struct {
	// Kind is KindUser or KindAgent.
	Kind string
	// ID is the token id or the agent id.
	ID   string
	Name string
	Role Role // users only
	Site string
}

// Allows reports whether the principal may do perm. Agents may do nothing
// on the admin API.
func (p Principal) Allows(perm Permission) bool { return p.Kind == KindUser && p.Role.Allows(perm) }

// Actor names the principal in audit entries and records ("user:ab12 (jdoe)",
// "agent:cd34 (lp-07)").
func (p Principal) Actor() string {
	kind := p.Kind
	switch p.Kind {
	case KindUser:
		kind = "user"
	case KindAgent:
		kind = "agent"
	}
	if p.Name != "" {
		return kind + ":" + p.ID + " (" + p.Name + ")"
	}
	return kind + ":" + p.ID
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal a request runs as.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
