"""Notices to people: email (threaded per ticket), in-app notifications, pager/SMS."""
