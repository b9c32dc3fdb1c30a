-- +goose Up
CREATE TABLE users (
    id            {{id}},
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL DEFAULT '',
    role          TEXT NOT NULL CHECK (role IN ('admin','marketer','sales','viewer')),
    password_hash TEXT NOT NULL DEFAULT '',
    territory     TEXT NOT NULL DEFAULT '',
    manager_id    BIGINT REFERENCES users(id),
    capacity      INTEGER NOT NULL DEFAULT 0,
    created_at    {{timestamp}} NOT NULL,
    disabled_at   {{timestamp}}
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at {{timestamp}} NOT NULL,
    expires_at {{timestamp}} NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_keys (
    id           {{id}},
    name         TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('admin','marketer','sales','viewer')),
    prefix       TEXT NOT NULL,
    key_hash     TEXT NOT NULL UNIQUE,
    created_at   {{timestamp}} NOT NULL,
    revoked_at   {{timestamp}},
    last_used_at {{timestamp}}
);

CREATE TABLE accounts (
    id         {{id}},
    name       TEXT NOT NULL,
    name_en    TEXT NOT NULL DEFAULT '',
    domain     TEXT NOT NULL DEFAULT '',
    industry   TEXT NOT NULL DEFAULT '',
    size_band  TEXT NOT NULL DEFAULT '',
    employees  INTEGER NOT NULL DEFAULT 0,
    region     TEXT NOT NULL DEFAULT '',
    city       TEXT NOT NULL DEFAULT '',
    tier       TEXT NOT NULL DEFAULT '',
    owner_id   BIGINT REFERENCES users(id),
    created_at {{timestamp}} NOT NULL
);
CREATE INDEX accounts_domain ON accounts(domain);

CREATE TABLE campaigns (
    id                   {{id}},
    code                 TEXT NOT NULL UNIQUE,
    name                 TEXT NOT NULL,
    name_en              TEXT NOT NULL DEFAULT '',
    channel              TEXT NOT NULL,
    platform             TEXT NOT NULL DEFAULT '',
    kind                 TEXT NOT NULL DEFAULT '',
    start_date           DATE,
    end_date             DATE,
    budget_fen           BIGINT NOT NULL DEFAULT 0,
    target_leads         INTEGER NOT NULL DEFAULT 0,
    target_mqls          INTEGER NOT NULL DEFAULT 0,
    target_opportunities INTEGER NOT NULL DEFAULT 0,
    target_pipeline_fen  BIGINT NOT NULL DEFAULT 0,
    target_revenue_fen   BIGINT NOT NULL DEFAULT 0,
    landing_url          TEXT NOT NULL DEFAULT '',
    created_at           {{timestamp}} NOT NULL
);

CREATE TABLE ad_groups (
    id          {{id}},
    campaign_id BIGINT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    name        TEXT NOT NULL
);

CREATE TABLE keywords (
    id          {{id}},
    campaign_id BIGINT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    ad_group_id BIGINT REFERENCES ad_groups(id) ON DELETE CASCADE,
    text        TEXT NOT NULL,
    match_type  TEXT NOT NULL DEFAULT ''
);

CREATE TABLE content_assets (
    id          {{id}},
    campaign_id BIGINT REFERENCES campaigns(id),
    kind        TEXT NOT NULL,
    title       TEXT NOT NULL,
    title_en    TEXT NOT NULL DEFAULT '',
    url         TEXT NOT NULL DEFAULT '',
    created_at  {{timestamp}} NOT NULL
);

CREATE TABLE persons (
    id                   {{id}},
    account_id           BIGINT REFERENCES accounts(id),
    name                 TEXT NOT NULL DEFAULT '',
    title                TEXT NOT NULL DEFAULT '',
    email                TEXT NOT NULL DEFAULT '',
    phone                TEXT NOT NULL DEFAULT '',
    stage                TEXT NOT NULL DEFAULT 'visitor',
    stage_at             {{timestamp}},
    grade                TEXT NOT NULL DEFAULT '',
    owner_id             BIGINT REFERENCES users(id),
    first_seen_at        {{timestamp}} NOT NULL,
    first_touch_channel  TEXT NOT NULL DEFAULT '',
    first_touch_campaign BIGINT REFERENCES campaigns(id),
    lead_at              {{timestamp}},
    created_at           {{timestamp}} NOT NULL
);
CREATE INDEX persons_account ON persons(account_id);
CREATE INDEX persons_stage ON persons(stage);
CREATE INDEX persons_first_channel ON persons(first_touch_channel);

CREATE TABLE identities (
    type       TEXT NOT NULL,
    value      TEXT NOT NULL,
    person_id  BIGINT NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    created_at {{timestamp}} NOT NULL,
    PRIMARY KEY (type, value)
);
CREATE INDEX identities_person ON identities(person_id);

CREATE TABLE touchpoints (
    id           {{id}},
    person_id    BIGINT REFERENCES persons(id),
    account_id   BIGINT REFERENCES accounts(id),
    anonymous_id TEXT NOT NULL DEFAULT '',
    occurred_at  {{timestamp}} NOT NULL,
    type         TEXT NOT NULL,
    channel      TEXT NOT NULL,
    source       TEXT NOT NULL DEFAULT '',
    medium       TEXT NOT NULL DEFAULT '',
    campaign_id  BIGINT REFERENCES campaigns(id),
    keyword_id   BIGINT REFERENCES keywords(id),
    content_id   BIGINT REFERENCES content_assets(id),
    promoter_id  BIGINT REFERENCES users(id),
    url          TEXT NOT NULL DEFAULT '',
    referrer     TEXT NOT NULL DEFAULT '',
    click_id     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX touchpoints_person_time ON touchpoints(person_id, occurred_at);
CREATE INDEX touchpoints_time ON touchpoints(occurred_at, channel);
CREATE INDEX touchpoints_campaign ON touchpoints(campaign_id);

CREATE TABLE daily_costs (
    id          {{id}},
    day         DATE NOT NULL,
    platform    TEXT NOT NULL,
    campaign_id BIGINT NOT NULL REFERENCES campaigns(id),
    ad_group_id BIGINT REFERENCES ad_groups(id),
    keyword_id  BIGINT REFERENCES keywords(id),
    impressions BIGINT NOT NULL DEFAULT 0,
    clicks      BIGINT NOT NULL DEFAULT 0,
    cost_fen    BIGINT NOT NULL DEFAULT 0 CHECK (cost_fen >= 0)
);
CREATE UNIQUE INDEX daily_costs_key ON daily_costs(day, campaign_id, COALESCE(ad_group_id, 0), COALESCE(keyword_id, 0));
CREATE INDEX daily_costs_campaign ON daily_costs(campaign_id);

CREATE TABLE opportunities (
    id         {{id}},
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    name       TEXT NOT NULL,
    owner_id   BIGINT REFERENCES users(id),
    stage      TEXT NOT NULL,
    amount_fen BIGINT NOT NULL DEFAULT 0 CHECK (amount_fen >= 0),
    created_at {{timestamp}} NOT NULL,
    closed_at  {{timestamp}}
);
CREATE INDEX opportunities_account ON opportunities(account_id);

CREATE TABLE opportunity_contacts (
    opportunity_id BIGINT NOT NULL REFERENCES opportunities(id) ON DELETE CASCADE,
    person_id      BIGINT NOT NULL REFERENCES persons(id),
    role           TEXT NOT NULL DEFAULT '',
    is_primary     BOOLEAN NOT NULL DEFAULT {{bool false}},
    PRIMARY KEY (opportunity_id, person_id)
);
CREATE INDEX opportunity_contacts_person ON opportunity_contacts(person_id);

CREATE TABLE orders (
    id             {{id}},
    opportunity_id BIGINT REFERENCES opportunities(id),
    account_id     BIGINT NOT NULL REFERENCES accounts(id),
    amount_fen     BIGINT NOT NULL CHECK (amount_fen >= 0),
    ordered_at     {{timestamp}} NOT NULL
);

CREATE TABLE stage_changes (
    id         {{id}},
    person_id  BIGINT NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    from_stage TEXT NOT NULL DEFAULT '',
    to_stage   TEXT NOT NULL,
    changed_at {{timestamp}} NOT NULL,
    reason     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX stage_changes_to_time ON stage_changes(to_stage, changed_at);
CREATE INDEX stage_changes_person ON stage_changes(person_id, changed_at);

CREATE TABLE tasks (
    id             {{id}},
    kind           TEXT NOT NULL,
    title          TEXT NOT NULL,
    person_id      BIGINT REFERENCES persons(id) ON DELETE CASCADE,
    opportunity_id BIGINT REFERENCES opportunities(id) ON DELETE CASCADE,
    assignee_id    BIGINT REFERENCES users(id),
    due_at         {{timestamp}},
    done_at        {{timestamp}},
    created_at     {{timestamp}} NOT NULL
);
CREATE INDEX tasks_assignee ON tasks(assignee_id, done_at);

-- +goose Down
DROP TABLE tasks;
DROP TABLE stage_changes;
DROP TABLE orders;
DROP TABLE opportunity_contacts;
DROP TABLE opportunities;
DROP TABLE daily_costs;
DROP TABLE touchpoints;
DROP TABLE identities;
DROP TABLE persons;
DROP TABLE content_assets;
DROP TABLE keywords;
DROP TABLE ad_groups;
DROP TABLE campaigns;
DROP TABLE accounts;
DROP TABLE api_keys;
DROP TABLE sessions;
DROP TABLE users;
