"""Reports written from the gradebook: grades.csv, results.jsonl, feedback pages, class report, LMS exports."""
