/**
 * Long batch runs (an evaluation, a file of mentions to link) that may stop and may be split across machines: a
 * {@link gemel.batch.ResultJournal} keeps each result as it is made so that the same command resumes, a
 * {@link gemel.batch.Shard} is the part of the records one machine takes, and {@link gemel.batch.ShardMerge} joins the
 * parts into what one run writes, checked against each part's {@link gemel.batch.RunSummary}.
 */
package gemel.batch;
