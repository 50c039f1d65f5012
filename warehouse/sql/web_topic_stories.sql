-- Web topic page: one page of the stories that matched the topic (topic_hits), newest first, each with its
-- best snippet and the alert it raised (first alert; deliveries sent and failed).
WITH hits AS (
    SELECT story_id, count(*) AS matches, arg_max(snippet, (score, article_id)) AS snippet
    FROM topic_hits
    GROUP BY story_id
), page AS (
    SELECT s.*, h.matches, h.snippet
    FROM hits AS h JOIN stories AS s USING (story_id)
    ORDER BY s.first_seen_at DESC, s.story_id
    LIMIT $limit OFFSET $offset
), members AS (
    SELECT article_id, story_id, outlet FROM articles
    WHERE story_id IN (SELECT story_id FROM page)
), outlets AS (  -- the story_outlets view, for this page's stories only
    SELECT story_id, list(DISTINCT outlet ORDER BY outlet) AS outlets
    FROM (SELECT story_id, outlet FROM members
          UNION ALL
          SELECT m.story_id, s.outlet FROM sightings AS s JOIN members AS m USING (article_id))
    GROUP BY story_id
), alerted AS (
    SELECT al.story_id, min(al.created_at) AS alerted_at,
           arg_min(al.outlets, al.created_at) AS alert_outlets,
           count(*) FILTER (WHERE al.kind = 'follow_up') AS follow_ups
    FROM alerts AS al
    WHERE al.topic = $topic AND al.story_id IN (SELECT story_id FROM page)
    GROUP BY al.story_id
), delivered AS (
    SELECT al.story_id, count(*) FILTER (WHERE d.status = 'sent') AS sent,
           count(*) FILTER (WHERE d.status = 'failed') AS failed,
           count(*) FILTER (WHERE d.status NOT IN ('sent', 'failed')) AS waiting
    FROM alerts AS al
    JOIN deliveries AS d USING (topic, article_id, kind)
    WHERE al.topic = $topic AND al.story_id IN (SELECT story_id FROM page)
    GROUP BY al.story_id
)
SELECT p.story_id, p.title, p.first_seen_at, p.last_seen_at, p.articles, p.outlets AS n_outlets,
       p.matches, p.snippet, o.outlets, al.alerted_at, al.alert_outlets, al.follow_ups,
       d.sent, d.failed, d.waiting
FROM page AS p
LEFT JOIN outlets AS o USING (story_id)
LEFT JOIN alerted AS al USING (story_id)
LEFT JOIN delivered AS d USING (story_id)
ORDER BY p.first_seen_at DESC, p.story_id;
