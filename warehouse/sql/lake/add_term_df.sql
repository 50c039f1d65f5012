-- Lake variant (no key constraints, so no ON CONFLICT): add the batch's document frequencies.
MERGE INTO term_df USING (SELECT term, sum(df)::INTEGER AS df FROM batch GROUP BY term) AS b
ON term_df.term = b.term
WHEN MATCHED THEN UPDATE SET df = term_df.df + b.df
WHEN NOT MATCHED THEN INSERT (term, df) VALUES (b.term, b.df);
