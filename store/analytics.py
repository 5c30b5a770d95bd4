"""Aggregates of the search log for team leads, in portable SQL over any store."""


def _count_where(condition):
    return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"


class SearchAnalytics:
    """Aggregates of the search log for team leads, in portable SQL over any store."""

    def __init__(self, store):
        self.store = store

    def _rows(self, sql, params):
        return self.store._rows(sql, params)

    def per_day(self, start, end):
        """Searches, zero-result searches and solved searches per day in [start, end)."""
        return self._rows(
            f"SELECT substr(s.at, 1, 10) AS day, COUNT(*) AS searches, {_count_where('s.results = 0')} AS zero_results,"
            f" {_count_where('e.search_id IS NOT NULL')} AS solved"
            " FROM search_log s LEFT JOIN (SELECT DISTINCT search_id FROM search_events WHERE kind = 'solved') e"
            " ON e.search_id = s.search_id WHERE s.at >= ? AND s.at < ? GROUP BY substr(s.at, 1, 10) ORDER BY day",
            (start, end),
        )

    def top_queries(self, start, end, limit=20):
        """The most frequent queries with their average result count."""
        return self._rows(
            "SELECT lower(query) AS query, COUNT(*) AS searches, AVG(results) AS avg_results FROM search_log"
            " WHERE at >= ? AND at < ? GROUP BY lower(query) ORDER BY searches DESC, query LIMIT ?",
            (start, end, limit),
        )

    def zero_result_queries(self, start, end, limit=20):
        """Queries that found nothing, most frequent first."""
        return self._rows(
            "SELECT lower(query) AS query, COUNT(*) AS searches FROM search_log WHERE at >= ? AND at < ?"
            " AND results = 0 GROUP BY lower(query) ORDER BY searches DESC, query LIMIT ?",
            (start, end, limit),
        )

    def unused_queries(self, start, end, limit=20):
        """Queries with results where no hit was opened or marked solved."""
        return self._rows(
            "SELECT lower(s.query) AS query, COUNT(*) AS searches FROM search_log s"
            " LEFT JOIN search_events e ON e.search_id = s.search_id"
            " WHERE s.at >= ? AND s.at < ? AND s.results > 0 AND e.search_id IS NULL"
            " GROUP BY lower(s.query) ORDER BY searches DESC, query LIMIT ?",
            (start, end, limit),
        )

    def top_solving_calls(self, start, end, limit=20):
        """The calls marked "this solved it" most often, with their titles."""
        return self._rows(
            "SELECT f.call_id AS call_id, COALESCE(c.title, '') AS title, COUNT(*) AS solved FROM feedback f"
            " LEFT JOIN calls c ON c.id = f.call_id WHERE f.at >= ? AND f.at < ?"
            " GROUP BY f.call_id, c.title ORDER BY solved DESC, f.call_id LIMIT ?",
            (start, end, limit),
        )

    def summary(self, start, end):
        """Totals over the range: searches, zero-result share, solved share."""
        row = self._rows(
            f"SELECT COUNT(*) AS searches, {_count_where('s.results = 0')} AS zero_results,"
            f" {_count_where('e.search_id IS NOT NULL')} AS solved FROM search_log s"
            " LEFT JOIN (SELECT DISTINCT search_id FROM search_events WHERE kind = 'solved') e"
            " ON e.search_id = s.search_id WHERE s.at >= ? AND s.at < ?",
            (start, end),
        )[0]
        searches = row["searches"] or 0
        return {
            "searches": searches,
            "zero_results": row["zero_results"] or 0,
            "solved": row["solved"] or 0,
            "solved_share": round((row["solved"] or 0) / searches, 4) if searches else 0.0,
        }

    def by_contact_channel(self, start, end):
        """Searches, zero-result searches and solved searches by the channel of the contact being helped
        (phone, email, web, chat, in_person; "" when the search did not say), most searches first (issue #18)."""
        return self._rows(
            f"SELECT COALESCE(s.contact_channel, '') AS contact_channel, COUNT(*) AS searches,"
            f" {_count_where('s.results = 0')} AS zero_results, {_count_where('e.search_id IS NOT NULL')} AS solved"
            " FROM search_log s LEFT JOIN (SELECT DISTINCT search_id FROM search_events WHERE kind = 'solved') e"
            " ON e.search_id = s.search_id WHERE s.at >= ? AND s.at < ?"
            " GROUP BY COALESCE(s.contact_channel, '') ORDER BY searches DESC, contact_channel",
            (start, end),
        )
