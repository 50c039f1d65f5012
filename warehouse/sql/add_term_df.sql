-- Add the batch's document frequencies (a new term gets a row: term_df has no key constraint).
MERGE INTO term_df USING (SELECT term, sum(df)::INTEGER AS df FROM batch GROUP BY term) AS b
ON term_df.term = b.term
WHEN MATCHED THEN UPDATE SET df = term_df.df + b.df
WHEN NOT MATCHED THEN INSERT (term, df) VALUES (b.term, b.df);
