package web

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store/storetest"
)

// TestBrowserJourneyEditor drives headless Chromium through the journey
// editor: the starter journey drawn as a flow, a webhook step added from
// the menu and filled in, a step renamed with its references kept, the
// JSON view, saving, activating, and editing again — with no script error
// or refused resource on the way.
func TestBrowserJourneyEditor(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	chromium := chromiumPath(t)
	s := storetest.SQLite(t)
	e := newEnv(t, s)
	_, base := serveForBrowser(t, s, e.auth)

	bctx := newBrowser(t, chromium, chromedp.WindowSize(1280, 1000))
	watch := watchPage(t, bctx, base)
	tb := newTab(t, bctx)
	run, text, count, shoot := tb.run, tb.text, tb.count, tb.shoot
	// change sets a field's value as a person's typing would end: with a
	// change event.
	change := func(step, sel, value string) {
		t.Helper()
		js := `(function(){var n=document.querySelector(` + jsString(sel) + `);if(!n)return false;n.value=` + jsString(value) + `;n.dispatchEvent(new Event('change',{bubbles:true}));return true})()`
		if ok, err := chromedp.Run(bctx, chromedp.Evaluate[bool](js)); err != nil || !ok {
			t.Fatalf("%s: %s: %v", step, sel, err)
		}
	}
	// click clicks in the page itself: the editor draws its nodes anew
	// after every change, which leaves a driver's node handles stale.
	click := func(step, sel string) {
		t.Helper()
		js := `(function(){var n=document.querySelector(` + jsString(sel) + `);if(!n)return false;n.click();return true})()`
		if ok, err := chromedp.Run(bctx, chromedp.Evaluate[bool](js)); err != nil || !ok {
			t.Fatalf("%s: %s: %v", step, sel, err)
		}
	}
	definition := func() model.JourneyDef {
		t.Helper()
		raw, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.getElementById('journey-definition').value`))
		if err != nil {
			t.Fatal(err)
		}
		var d model.JourneyDef
		if err := jsonStrict(raw, &d); err != nil {
			t.Fatalf("the editor wrote %s: %v", raw, err)
		}
		return d
	}

	run("log in",
		chromedp.Navigate(base+"/login?next="+url.QueryEscape("/journeys/new?lang=en")),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), testEmail),
		chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.Click(chromedp.CSS("#login-submit")),
		chromedp.WaitVisible(chromedp.CSS(".je-step")))
	if n := count(".je-step"); n != 5 {
		t.Fatalf("the starter shows %d steps, want 5", n)
	}
	if got := text(`.je-step[data-step="opened"] .je-links`); !strings.Contains(got, "yes → handoff") || !strings.Contains(got, "no → end") {
		t.Errorf("the branch's ways: %q", got)
	}
	shoot("journey-editor-en")

	change("add a webhook at the end", `select[data-insert="5"]`, "webhook")
	run("the new step opens", chromedp.WaitVisible(chromedp.CSS(`.je-step[data-step="webhook1"] input[data-field="url"]`)))
	change("fill its URL", `.je-step[data-step="webhook1"] input[data-field="url"]`, "https://crm.example.test/hook")
	click("open the email step", `.je-step[data-step="welcome"] .je-toggle`)
	run("its fields show", chromedp.WaitVisible(chromedp.CSS(`.je-step[data-step="welcome"] input[data-field="id"]`)))
	change("rename the email step", `.je-step[data-step="welcome"] input[data-field="id"]`, "hello")
	d := definition()
	if len(d.Steps) != 6 || d.Steps[5].Type != "webhook" || d.Steps[5].URL != "https://crm.example.test/hook" {
		t.Fatalf("after adding: %+v", d.Steps)
	}
	if d.Steps[0].ID != "hello" || d.Steps[2].If == nil || d.Steps[2].If.Step != "hello" {
		t.Errorf("the rename lost the branch's reference: %+v", d.Steps[2].If)
	}
	if err := d.Validate(); err != nil {
		t.Errorf("the editor's definition does not hold: %v", err)
	}
	click("the JSON view", "#journey-json-toggle")
	run("the JSON shows", chromedp.WaitVisible(chromedp.CSS("#journey-definition")))
	change("name it", "#journey-name", "白皮书培育 A")
	click("save", "#journey-save")
	run("saved", chromedp.WaitVisible(chromedp.CSS("#journey-activate")))
	if got := text("#journey-title"); !strings.Contains(got, "白皮书培育 A") {
		t.Errorf("saved journey title %q", got)
	}
	click("activate", "#journey-activate")
	run("activated", chromedp.WaitVisible(chromedp.CSS("#journey-pause")))
	list, err := s.Journeys(ctx)
	if err != nil || len(list) != 1 || list[0].Status != model.JourneyLive {
		t.Fatalf("journeys %+v %v", list, err)
	}
	saved, err := s.JourneyDefinition(ctx, list[0].ID, 1)
	if err != nil || len(saved.Steps) != 6 || saved.Name != "白皮书培育 A" || saved.Steps[5].URL != "https://crm.example.test/hook" {
		t.Fatalf("stored %+v %v", saved, err)
	}
	shoot("journey-en")

	run("edit again in Chinese", chromedp.Navigate(base+"/journeys/"+itoa(list[0].ID)+"/edit?lang=zh-CN"), chromedp.WaitVisible(chromedp.CSS(".je-step")))
	if n := count(".je-step"); n != 6 {
		t.Errorf("the editor shows %d steps of the stored 6", n)
	}
	if got := text(`.je-step[data-step="webhook1"] .je-type`); got != "WEBHOOK" && got != "Webhook" {
		t.Errorf("step type label %q", got)
	}
	if got := text(".je-panel h2"); got != "进入条件" {
		t.Errorf("trigger panel title %q", got)
	}
	shoot("journey-editor-zh-CN")
	watch.check(t)
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// jsonStrict decodes raw into v, refusing unknown fields as the server does.
func jsonStrict(raw string, v any) error {
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}
