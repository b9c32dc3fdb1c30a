package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/revloop/revloop/internal/config"
	"github.com/revloop/revloop/internal/links"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/web"
)

func runLink(ctx context.Context, c *cli, args []string) error {
	return subcommands(c, "link", args, map[string]func([]string) error{
		"create": func(args []string) error { return linkCreate(ctx, c, args) },
		"list":   func(args []string) error { return linkList(ctx, c, args) },
		"revoke": func(args []string) error { return linkRevoke(ctx, c, args) },
	}, "Manage tracked links: short links (/r/CODE) that redirect to a campaign's landing page with UTM\n"+
		"parameters and record each click; each has a QR code at /r/CODE/qr.png and /r/CODE/qr.svg.")
}

// bindBaseURL registers --base-url: the address people reach revloop at.
func bindBaseURL(b *config.Binder, p *string) {
	b.String(p, "base-url", "REVLOOP_PUBLIC_URL", "", "address people reach revloop at, e.g. https://m.example.cn "+
		"(default: the links.public_url setting, else http://"+config.DefaultAddr+")")
}

func baseURL(ctx context.Context, s *store.Store, flag string) string {
	if flag != "" {
		return strings.TrimRight(flag, "/")
	}
	var v string
	if ok, err := s.Setting(ctx, web.SettingPublicURL, &v); err == nil && ok && v != "" {
		return strings.TrimRight(v, "/")
	}
	return "http://" + config.DefaultAddr
}

func linkCreate(ctx context.Context, c *cli, args []string) error {
	var cfg config.Config
	var req links.Request
	var base string
	fs := newFlags(c, "link create", "link create --campaign CODE [--url URL] [--promoter EMAIL] [--card ID] [--utm-source S] ... [--db DB]",
		"Create a tracked link for a campaign. The short URL is printed as the last line.")
	b := config.NewBinder(fs, c.env)
	cfg.BindDB(b, config.DefaultDB)
	bindBaseURL(b, &base)
	fs.StringVar(&req.Campaign, "campaign", "", "campaign code (required)")
	fs.StringVar(&req.URL, "url", "", "landing URL, http or https (default: the campaign's landing URL)")
	fs.StringVar(&req.Promoter, "promoter", "", "email or id of the employee who shares the link (全员营销)")
	fs.StringVar(&req.CardID, "card", "", "sales rep's business-card id")
	fs.StringVar(&req.UTMSource, "utm-source", "", "utm_source (default revloop_link)")
	fs.StringVar(&req.UTMMedium, "utm-medium", "", "utm_medium (default employee_sharing with a promoter, else tracked_link)")
	fs.StringVar(&req.UTMCamp, "utm-campaign", "", "utm_campaign (default: the campaign code)")
	fs.StringVar(&req.UTMTerm, "utm-term", "", "utm_term")
	fs.StringVar(&req.UTMContent, "utm-content", "", "utm_content (default card-ID with --card)")
	if err := parse(fs, b, args); err != nil {
		return err
	}
	if strings.TrimSpace(req.Campaign) == "" {
		return usageError{"--campaign is required"}
	}
	s, err := openStore(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer s.Close()
	l, err := links.Create(ctx, s, req, time.Now())
	var ie *links.InputError
	if errors.As(err, &ie) {
		return usageError{ie.Msg}
	}
	if err != nil {
		return err
	}
	short := baseURL(ctx, s, base) + "/r/" + l.Code
	fmt.Fprintf(c.stdout, "created tracked link %s (id %d) for campaign %s → %s\n", l.Code, l.ID, l.CampaignCode, l.TargetURL)
	fmt.Fprintf(c.stdout, "QR code: %s/qr.png or %s/qr.svg\n", short, short)
	fmt.Fprintln(c.stdout, short)
	return nil
}

func linkList(ctx context.Context, c *cli, args []string) error {
	var cfg config.Config
	var campaign, base string
	fs := newFlags(c, "link list", "link list [--campaign CODE] [--db DB]", "List tracked links, newest first.")
	b := config.NewBinder(fs, c.env)
	cfg.BindDB(b, config.DefaultDB)
	bindBaseURL(b, &base)
	fs.StringVar(&campaign, "campaign", "", "only this campaign's links")
	if err := parse(fs, b, args); err != nil {
		return err
	}
	s, err := openStore(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer s.Close()
	var campaignID int64
	if campaign != "" {
		camp, err := s.LinkCampaignByCode(ctx, campaign)
		if errors.Is(err, store.ErrNotFound) {
			return usageError{fmt.Sprintf("campaign %q does not exist", campaign)}
		}
		if err != nil {
			return err
		}
		campaignID = camp.ID
	}
	list, err := s.TrackedLinks(ctx, campaignID, 10000)
	if err != nil {
		return err
	}
	root := baseURL(ctx, s, base)
	tw := tabwriter.NewWriter(c.stdout, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSHORT URL\tCAMPAIGN\tTARGET\tPROMOTER\tCARD\tCREATED\tSTATUS")
	for _, l := range list {
		status := "active"
		if l.RevokedAt != nil {
			status = "revoked " + l.RevokedAt.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%d\t%s/r/%s\t%s\t%s\t%s\t%s\t%s\t%s\n", l.ID, root, l.Code, l.CampaignCode, l.TargetURL, l.PromoterEmail, l.CardID,
			l.CreatedAt.Format(time.RFC3339), status)
	}
	return tw.Flush()
}

func linkRevoke(ctx context.Context, c *cli, args []string) error {
	var cfg config.Config
	var code string
	fs := newFlags(c, "link revoke", "link revoke --code CODE [--db DB]", "Revoke a tracked link: its short URL and QR code then answer 404.")
	b := config.NewBinder(fs, c.env)
	cfg.BindDB(b, config.DefaultDB)
	fs.StringVar(&code, "code", "", "the link's code (required)")
	if err := parse(fs, b, args); err != nil {
		return err
	}
	if code == "" {
		return usageError{"--code is required"}
	}
	s, err := openStore(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer s.Close()
	l, err := s.TrackedLinkByCode(ctx, code)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no tracked link %q", code)
	}
	if err != nil {
		return err
	}
	if err := s.RevokeTrackedLink(ctx, l.ID, time.Now()); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "revoked tracked link %s\n", l.Code)
	return nil
}
