// Package model holds revloop's domain types and their validation. It knows
// nothing of SQL or HTTP; every other package speaks in these types.
package model

import (
	"fmt"
	"strings"
	"time"
)

// Role is what a user or API key may do.
type Role string

const (
	RoleAdmin    Role = "admin"
	RoleMarketer Role = "marketer"
	RoleSales    Role = "sales"
	RoleViewer   Role = "viewer"
)

// Roles lists every role in order of decreasing power.
var Roles = []Role{RoleAdmin, RoleMarketer, RoleSales, RoleViewer}

// ParseRole accepts a role name and says which ones exist when it is wrong.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	for _, ok := range Roles {
		if r == ok {
			return r, nil
		}
	}
	return "", fmt.Errorf("unknown role %q (want one of admin, marketer, sales, viewer)", s)
}

// Stage is a step of the lead lifecycle.
type Stage string

const (
	StageVisitor     Stage = "visitor"    // anonymous, not yet in the lifecycle
	StageSubscriber  Stage = "subscriber" // known and reachable (a follower, a newsletter reader), not yet a lead
	StageLead        Stage = "lead"
	StageMQL         Stage = "mql"
	StageSQL         Stage = "sql"
	StageOpportunity Stage = "opportunity"
	StageCustomer    Stage = "customer"
	// Side states, outside the forward order.
	StageNurture      Stage = "nurture"      // recycled: back to marketing for nurturing
	StageDisqualified Stage = "disqualified" // not a buyer (competitor, student, no fit)
)

// LifecycleStages are the stages in forward order; Stage.Rank follows it.
var LifecycleStages = []Stage{StageVisitor, StageSubscriber, StageLead, StageMQL, StageSQL, StageOpportunity, StageCustomer}

// Rank is the position of a stage in LifecycleStages, or -1 for the side
// states and unknown stages.
func (s Stage) Rank() int {
	for i, st := range LifecycleStages {
		if st == s {
			return i
		}
	}
	return -1
}

// Valid reports whether s is a known stage, side states included.
func (s Stage) Valid() bool { return s.Rank() >= 0 || s == StageNurture || s == StageDisqualified }

// FunnelStages are the lifecycle stages a funnel counts, in order.
var FunnelStages = []Stage{StageLead, StageMQL, StageSQL, StageOpportunity, StageCustomer}

// Channel groups a touch by how the buyer came. The values are stable keys;
// the web layer translates them.
type Channel string

const (
	ChannelPaidSearch    Channel = "paid_search"
	ChannelPaidSocial    Channel = "paid_social"
	ChannelDisplay       Channel = "display"
	ChannelOrganicSearch Channel = "organic_search"
	ChannelOrganicSocial Channel = "organic_social"
	ChannelWeChat        Channel = "wechat"
	ChannelWeCom         Channel = "wecom"
	ChannelEmail         Channel = "email"
	ChannelReferral      Channel = "referral"
	ChannelDirect        Channel = "direct"
	ChannelWebinar       Channel = "webinar"
	ChannelOfflineEvent  Channel = "offline_event"
	ChannelContent       Channel = "content"
	ChannelEmployeeShare Channel = "employee_sharing"
	ChannelOutbound      Channel = "outbound"
	ChannelUnknown       Channel = "unknown"
)

// Channels lists every channel in display order.
var Channels = []Channel{
	ChannelPaidSearch, ChannelPaidSocial, ChannelDisplay, ChannelOrganicSearch,
	ChannelOrganicSocial, ChannelWeChat, ChannelWeCom, ChannelEmail, ChannelReferral,
	ChannelDirect, ChannelWebinar, ChannelOfflineEvent, ChannelContent,
	ChannelEmployeeShare, ChannelOutbound, ChannelUnknown,
}

// IdentityType names a kind of identifier that points at a person (OneID).
type IdentityType string

const (
	IdentityAnonymousID  IdentityType = "anonymous_id"
	IdentityUserID       IdentityType = "user_id"
	IdentityEmail        IdentityType = "email"
	IdentityPhone        IdentityType = "phone"
	IdentityWeChatUnion  IdentityType = "wechat_unionid"
	IdentityWeChatOpenID IdentityType = "wechat_openid"
	IdentityWeComID      IdentityType = "wecom_external_userid"
	IdentityCRMID        IdentityType = "crm_id"
)

// User is someone who logs in: a marketer, an SDR, a sales rep, an admin.
type User struct {
	ID           int64
	Email        string
	Name         string
	Role         Role
	PasswordHash string
	Territory    string // regions the user covers, comma separated
	ManagerID    int64
	Capacity     int // open leads the user can take; 0 = no limit
	CreatedAt    time.Time
	DisabledAt   *time.Time
}

// APIKey is a credential for the JSON API. Only its hash is stored.
type APIKey struct {
	ID         int64
	Name       string
	Role       Role
	Prefix     string // first characters of the key, shown to tell keys apart
	KeyHash    string
	UserID     int64 // the owner: the key acts for them and dies with their account; 0: none
	CreatedAt  time.Time
	RevokedAt  *time.Time
	LastUsedAt *time.Time
}

// Session is a logged-in browser. Only the token's hash is stored.
type Session struct {
	TokenHash string
	UserID    int64
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Account is a company.
type Account struct {
	ID        int64
	Name      string // Chinese name
	NameEN    string
	Domain    string
	Industry  string
	SizeBand  string // e.g. "100-499"
	Employees int
	Region    string // e.g. "east", "north"
	City      string
	Tier      string // ABM tier: "A", "B", "C"
	Plan      string // the plan the company is on, as its identify or group calls say
	OwnerID   int64
	CreatedAt time.Time
}

// Person is one human (OneID).
type Person struct {
	ID                 int64
	AccountID          int64
	Name               string
	Title              string
	Email              string
	Phone              string
	Stage              Stage
	StageAt            time.Time
	Grade              string
	OwnerID            int64
	FirstSeenAt        time.Time
	FirstTouchChannel  Channel
	FirstTouchCampaign int64
	LeadAt             *time.Time
	CreatedAt          time.Time
}

// Identity maps an identifier to a person.
type Identity struct {
	PersonID  int64
	Type      IdentityType
	Value     string
	CreatedAt time.Time
}

// Campaign is a marketing activity with a channel, a platform, a budget and targets.
type Campaign struct {
	ID                  int64
	Code                string
	Name                string
	NameEN              string
	Channel             Channel
	Platform            string // baidu, oceanengine, tencent_ads, google_ads, linkedin_ads, wechat, ...
	Kind                string // search_ads, feed_ads, webinar, exhibition, whitepaper, ...
	StartDate           time.Time
	EndDate             time.Time
	Budget              Money
	TargetLeads         int
	TargetMQLs          int
	TargetOpportunities int
	TargetPipeline      Money
	TargetRevenue       Money
	LandingURL          string
	CreatedAt           time.Time
	OwnerID             int64 // the user who runs it; 0 for none
	ParentID            int64 // the programme it belongs to; 0 for none
	UpdatedAt           *time.Time
	Version             int64 // bumped by every edit (optimistic locking)
	ArchivedAt          *time.Time
}

// AdGroup is a group of ads or keywords inside a campaign.
type AdGroup struct {
	ID         int64
	CampaignID int64
	Name       string
}

// Keyword is a bought search keyword.
type Keyword struct {
	ID         int64
	CampaignID int64
	AdGroupID  int64
	Text       string
	MatchType  string // exact, phrase, broad
}

// ContentAsset is a whitepaper, case study, video, article or landing page.
type ContentAsset struct {
	ID         int64
	CampaignID int64
	Kind       string
	Title      string
	TitleEN    string
	URL        string
	CreatedAt  time.Time
}

// Touchpoint is one thing a person did through one channel.
type Touchpoint struct {
	ID          int64
	PersonID    int64
	AccountID   int64
	AnonymousID string
	OccurredAt  time.Time
	Type        string // page_view, ad_click, form_submit, webinar_attend, badge_scan, ...
	Channel     Channel
	Source      string
	Medium      string
	CampaignID  int64
	KeywordID   int64
	ContentID   int64
	PromoterID  int64 // the employee whose shared link brought the touch
	LinkID      int64 // the tracked link clicked, for a click revloop recorded
	URL         string
	Referrer    string
	ClickID     string
	// WatchSeconds is how long a live or recorded session was watched (an
	// attendance imported with its minutes, an event's watch_seconds).
	WatchSeconds int64
}

// DailyCost is ad spend for one day down to keyword where the platform reports it.
type DailyCost struct {
	Day         time.Time
	Platform    string
	CampaignID  int64
	AdGroupID   int64
	KeywordID   int64
	Impressions int64
	Clicks      int64
	Cost        Money
}

// Opportunity is pipeline from the CRM.
type Opportunity struct {
	ID        int64
	AccountID int64
	Name      string
	OwnerID   int64
	Stage     string // open stages, then closed_won or closed_lost
	Amount    Money
	CreatedAt time.Time
	ClosedAt  *time.Time
}

// Opportunity stages as a CRM reports them.
const (
	OppStageQualify    = "qualification"
	OppStageProposal   = "proposal"
	OppStageNegotiate  = "negotiation"
	OppStageClosedWon  = "closed_won"
	OppStageClosedLost = "closed_lost"
)

// OpportunityContact is a person's role on an opportunity.
type OpportunityContact struct {
	OpportunityID int64
	PersonID      int64
	Role          string // decision_maker, champion, influencer, user, ...
	IsPrimary     bool
}

// Order is revenue won.
type Order struct {
	ID            int64
	OpportunityID int64
	AccountID     int64
	Amount        Money
	OrderedAt     time.Time
}

// OrderKinds are the kinds of orders a CRM sends: a first purchase, a
// renewal, an upsell to an existing customer.
var OrderKinds = []string{"new", "renewal", "upsell"}

// StageChange is one step of a person's lifecycle history.
type StageChange struct {
	PersonID    int64
	FromStage   Stage
	ToStage     Stage
	ChangedAt   time.Time
	Reason      string
	Actor       string // "user:ID", "rule:NAME", "scoring", "system", "system:processing"; empty in history loaded from elsewhere
	RuleVersion int64  // the scoring rule version that moved the person, 0 if none
}

// Task is a follow-up, an SLA escalation or a review action item.
type Task struct {
	ID            int64
	Kind          string
	Title         string
	PersonID      int64
	OpportunityID int64
	AssigneeID    int64
	DueAt         *time.Time
	DoneAt        *time.Time
	CreatedAt     time.Time
}
