-- When the profile was last matched, even when the search found nothing (match_results
-- then holds no row to tell it).
ALTER TABLE profiles ADD COLUMN matched_at timestamptz;
UPDATE profiles p SET matched_at = (SELECT max(m.matched_at) FROM match_results m WHERE m.user_id = p.user_id);
