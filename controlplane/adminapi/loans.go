package adminapi

import "time"

// Paths of loans, continuity and the reserve.
const (
	PathLoans            = "/api/v1/loans"
	PathLoansBulk        = "/api/v1/loans/bulk"
	PathExportLoans      = "/api/v1/exports/loans"
	PathPrivacyBorrowers = "/api/v1/privacy/borrowers"
	PathContinuity       = "/api/v1/continuity"
	PathContinuityTrig   = "/api/v1/continuity/trigger"
	PathNeeds            = "/api/v1/needs"
	PathImportNeeds      = "/api/v1/imports/needs"
	PathReserve          = "/api/v1/reserve"
	PathExportReserve    = "/api/v1/exports/reserve"
	PathClassroomsReport = "/api/v1/classrooms-report"
)

// Borrower types.
const (
	BorrowerStudent = "student"
	BorrowerStaff   = "staff"
)

// Loan states. Active, lost and abandoned loans hold their unit; returned
// and recovered ones are closed.
const (
	LoanActive    = "active"
	LoanLost      = "lost"
	LoanAbandoned = "abandoned" // the student left: the unit must be recovered
	LoanReturned  = "returned"
	LoanRecovered = "recovered"
)

// Loan is a unit lent to a borrower, identified by an opaque id (a student
// or staff number), never by name.
type Loan struct {
	ID   string `json:"id"`
	Unit string `json:"unit"`
	// Site is where the unit was at check-out.
	Site string `json:"site"`
	// Borrower is empty when the reader may not see borrower ids, or once
	// the loan was anonymised after the retention period.
	Borrower     string `json:"borrower,omitempty"`
	BorrowerType string `json:"borrower_type"`
	Due          string `json:"due"` // YYYY-MM-DD
	FormSigned   bool   `json:"form_signed"`
	FormRef      string `json:"form_ref,omitempty"`
	Forced       bool   `json:"forced,omitempty"`
	ForceReason  string `json:"force_reason,omitempty"`
	State        string `json:"state"`

	OutAt     time.Time  `json:"out_at"`
	OutBy     string     `json:"out_by"`
	ClosedAt  *time.Time `json:"closed_at,omitempty"`
	Condition string     `json:"condition,omitempty"`
	// Events is the loan's history: check-out, lost, abandoned, return,
	// recovery, with who recorded each.
	Events     []LoanEvent `json:"events"`
	Anonymised bool        `json:"anonymised,omitempty"`
}

// LoanEvent is one step of a loan.
type LoanEvent struct {
	At     time.Time `json:"at"`
	By     string    `json:"by"`
	Action string    `json:"action"` // checkout, lost, abandoned, return, recover
	Note   string    `json:"note,omitempty"`
}

// CheckoutRequest lends a unit.
type CheckoutRequest struct {
	Unit         string `json:"unit"`
	Borrower     string `json:"borrower"`
	BorrowerType string `json:"borrower_type"`
	Due          string `json:"due"`
	FormSigned   bool   `json:"form_signed"`
	FormRef      string `json:"form_ref,omitempty"`
	// Force lends a unit that is not ready; Reason is then required and
	// recorded.
	Force  bool   `json:"force,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// LoanAction changes a loan: return (with condition notes), lost,
// abandoned, recover.
type LoanAction struct {
	Action string `json:"action"`
	Note   string `json:"note,omitempty"`
}

// LoanList is a list of loans.
type LoanList struct {
	Loans []Loan `json:"loans"`
}

// BulkResult answers a bulk check-out or check-in: every loan it made or
// closed, or (nothing done) every bad line.
type BulkResult struct {
	Loans  []Loan      `json:"loans,omitempty"`
	Errors []LineError `json:"errors,omitempty"`
}

// LineError is what is wrong with one line of a file.
type LineError struct {
	Line    int    `json:"line"`
	Unit    string `json:"unit,omitempty"`
	Message string `json:"message"`
}

// Continuity counts one site's loaners for the emergency continuity plan:
// AtSite = Owned - AssignedOut + AssignedIn, and
// Available = AtSite - OnLoan - ToRecover - NotReady.
type Continuity struct {
	Site        string `json:"site"`
	Owned       int    `json:"owned"`
	AssignedOut int    `json:"assigned_out"`
	AssignedIn  int    `json:"assigned_in"`
	AtSite      int    `json:"at_site"`
	OnLoan      int    `json:"on_loan"`
	OnLoanStaff int    `json:"on_loan_staff"`
	// OnLoanStudents = OnLoan - OnLoanStaff.
	OnLoanStudents int `json:"on_loan_students"`
	// ToRecover counts units lost or abandoned on loan.
	ToRecover int `json:"to_recover"`
	// NotReady counts units at the site, not lent, that are not ready;
	// NotReadyUnknown of them could not be judged (never seen...), and
	// NotReadyByRule counts them per failing rule.
	NotReady        int            `json:"not_ready"`
	NotReadyUnknown int            `json:"not_ready_unknown"`
	NotReadyByRule  map[string]int `json:"not_ready_by_rule,omitempty"`
	Available       int            `json:"available"`
	// Requests is the number of students recorded as needing a device;
	// Shortfall how many of them the available loaners cannot serve.
	Requests  int `json:"requests"`
	Shortfall int `json:"shortfall"`
}

// ContinuitySummary is the continuity count of every site and in total.
type ContinuitySummary struct {
	Sites []Continuity `json:"sites"`
	Total Continuity   `json:"total"`
	// Arithmetic says how the numbers add up, in the requested language.
	Arithmetic string `json:"arithmetic"`
}

// TriggerUnit is one unit to hand out now.
type TriggerUnit struct {
	Unit          string  `json:"unit"`
	Hostname      string  `json:"hostname,omitempty"`
	Cart          string  `json:"cart,omitempty"`
	Slot          int     `json:"slot,omitempty"`
	ChargePercent float64 `json:"charge_percent"`
	HealthPercent float64 `json:"health_percent"`
}

// TriggerSite is the hand-out list and the go/no-go of one site.
type TriggerSite struct {
	Continuity
	Go    bool          `json:"go"`
	Units []TriggerUnit `json:"units"`
}

// Trigger answers "continuity --trigger".
type Trigger struct {
	Sites []TriggerSite `json:"sites"`
	Total Continuity    `json:"total"`
	Go    bool          `json:"go"`
}

// Eligibility categories of students who need a device.
const (
	NeedNoDevice          = "no_device"
	NeedNoExclusiveDevice = "no_exclusive_device"
	NeedAlternating       = "alternating_attendance"
	NeedAtRisk            = "at_risk"
	NeedSpecialNeeds      = "special_needs"
)

// Device types of needs.
const (
	DeviceLaptop = "laptop"
	DeviceTablet = "tablet"
)

// Need is how many students of a category need a device of a type.
type Need struct {
	Category   string `json:"category"`
	DeviceType string `json:"device_type"`
	Count      int    `json:"count"`
}

// SiteNeeds are a site's recorded needs.
type SiteNeeds struct {
	Site      string    `json:"site"`
	Needs     []Need    `json:"needs"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	UpdatedBy string    `json:"updated_by,omitempty"`
}

// ReserveLine is needs, supply and shortfall for one category and device
// type at one site (or in total, Site "").
type ReserveLine struct {
	Site       string `json:"site,omitempty"`
	Category   string `json:"category"`
	DeviceType string `json:"device_type"`
	Needed     int    `json:"needed"`
	Supplied   int    `json:"supplied"`
	Shortfall  int    `json:"shortfall"`
}

// Reserve is what the organisation needs, can supply itself and must ask
// the ministry's reserve for.
type Reserve struct {
	Lines []ReserveLine `json:"lines"`
	Total []ReserveLine `json:"total"`
	// Priority is the order in which available loaners go to categories.
	Priority []string `json:"priority"`
}

// ClassroomsReport is the one-PC-per-classroom check.
type ClassroomsReport struct {
	WithoutPC []string            `json:"without_pc"`
	Several   map[string][]string `json:"several_pcs,omitempty"`
	// Misplaced are units placed in a classroom or cart whose agent reports
	// from another site than that placement.
	Misplaced []Misplaced `json:"misplaced,omitempty"`
}

// Misplaced is a unit seen elsewhere than declared.
type Misplaced struct {
	Unit      string `json:"unit"`
	Placement string `json:"placement"` // classroom or cart
	Site      string `json:"site"`
	SeenSite  string `json:"seen_site"`
}

// CartStatus is a cart's contents.
type CartStatus struct {
	Cart  string     `json:"cart"`
	Site  string     `json:"site"`
	Slots []CartSlot `json:"slots"`
	// Charged counts units charged at least ChargeThreshold percent;
	// ChargedReady those of them also ready.
	ChargeThreshold float64 `json:"charge_threshold"`
	Charged         int     `json:"charged"`
	ChargedReady    int     `json:"charged_ready"`
	Empty           []int   `json:"empty"`
}

// CartSlot is one slot of a cart.
type CartSlot struct {
	Slot          int      `json:"slot"`
	Unit          string   `json:"unit,omitempty"`
	Readiness     string   `json:"readiness,omitempty"`
	ChargePercent *float64 `json:"charge_percent,omitempty"`
	HealthPercent *float64 `json:"health_percent,omitempty"`
	OnLoan        bool     `json:"on_loan,omitempty"`
}
