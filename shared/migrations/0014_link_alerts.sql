-- Hot-engagement alerts to reps (issue 13, docs/share-links.md): the notifier raises an
-- alert to a share link's creator when the link is first opened, re-opened after days,
-- forwarded or read at length; each rule fires at most once per link (link_alert_state,
-- 0013). These alerts live in the same `alerts` table and delivery outbox as the owners'
-- alerts, so the inbox lists them and delivery stays exactly once in effect.
--
-- Owner: notifier (alerts). `link_id` names the share link of a hot-engagement alert and
-- is null for an owner's alert. An owner's alert keeps its key (asset, rule, episode); a
-- link alert's key is (link, rule), as many links may share one asset.
ALTER TABLE alerts ADD COLUMN link_id text;
ALTER TABLE alerts DROP CONSTRAINT alerts_asset_id_rule_episode_key;
CREATE UNIQUE INDEX alerts_asset_rule_episode ON alerts (asset_id, rule, episode)
    WHERE link_id IS NULL;
CREATE UNIQUE INDEX alerts_link_rule ON alerts (link_id, rule) WHERE link_id IS NOT NULL;
COMMENT ON COLUMN alerts.link_id IS
    'owner: notifier; the share link of a hot-engagement alert (rule link_*), else null';
