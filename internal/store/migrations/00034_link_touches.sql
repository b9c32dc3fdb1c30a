-- +goose Up
-- The tracked link a touch came through (a click on /r/CODE): a link's
-- clicks and leads are counted from its touches. Only the clicks revloop
-- recorded itself carry one (processing checks the write key).
ALTER TABLE touchpoints ADD COLUMN link_id BIGINT;
CREATE INDEX touchpoints_link ON touchpoints(link_id, occurred_at) WHERE link_id IS NOT NULL;

-- The clicks processed before this release, from their events' payloads
-- (those that retention emptied have lost their link).
UPDATE touchpoints SET link_id = (
    SELECT l.id FROM events e JOIN write_keys k ON k.id = e.write_key_id
    JOIN tracked_links l ON l.code = (CASE WHEN {{sqlite "json_valid(e.payload)"}}{{psql "e.payload LIKE '{%'"}}
        THEN {{sqlite "json_extract(e.payload, '$.properties.link_code')"}}{{psql "(e.payload::jsonb -> 'properties' ->> 'link_code')"}} END)
    WHERE e.id = touchpoints.event_id AND k.name = 'revloop:links' AND e.name = 'Tracked Link Clicked')
WHERE type = 'tracked_link_clicked' AND event_id IS NOT NULL;

-- +goose Down
DROP INDEX touchpoints_link;
ALTER TABLE touchpoints DROP COLUMN link_id;
