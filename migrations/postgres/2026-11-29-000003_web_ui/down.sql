DROP TABLE initial_views;
DROP TABLE login_links_used;
DROP TABLE web_sessions;
