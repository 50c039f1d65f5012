-- Learned relevance: each match carries its topic's model probability (NULL when the topic
-- has no model) and the model's verdict at the topic's threshold. Matches made before this
-- migration were made by the query alone, and were all alerted as relevant.
ALTER TABLE topic_matches ADD COLUMN IF NOT EXISTS probability DOUBLE;
ALTER TABLE topic_matches ADD COLUMN IF NOT EXISTS relevant BOOLEAN DEFAULT true;
CREATE SCHEMA IF NOT EXISTS topics;
