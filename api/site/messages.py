"""UI strings of the help-center site, one small dictionary per locale (article text comes from the content)."""

from __future__ import annotations

import datetime as dt

LOCALE_NAMES = {"en": "English", "ja": "日本語"}
"""Each locale named in its own language, as a reader looks for it in a language switcher."""
LANGUAGE_NAMES = {"en": {"en": "English", "ja": "Japanese"}, "ja": {"en": "英語", "ja": "日本語"}}
"""Each locale named in the reader's language, for sentences about it ("shown in English")."""

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "skip_to_content": "Skip to content",
        "hero_title": "How can we help?",
        "hero_lead": "Search our guides and answers, or browse by topic.",
        "search_label": "Search the help center",
        "search_placeholder": "Search for answers, e.g. “reset password”",
        "search_button": "Search",
        "search_title": "Search results",
        "search_prompt": "Type a question or a few words to search the help center.",
        "suggestions_label": "Suggested articles",
        "suggestions_all": "See all results for “{query}”",
        "suggestions_none": "No suggestions",
        "suggestions_count": "{count} suggestions available; use the up and down arrows to choose.",
        "results_one": "1 result for “{query}”",
        "results_many": "{count} results for “{query}”",
        "read_as": "Searched “{word}” for “{typed}”",
        "no_results_title": "No results for “{query}”",
        "no_results_hint": "Check the spelling, try fewer or more general words, or browse the topics below.",
        "invalid_query": "That search could not be run: {reason}",
        "pagination_label": "Search result pages",
        "previous": "Previous",
        "next": "Next",
        "page_of": "Page {page} of {pages}",
        "categories_title": "Browse by topic",
        "articles_count_one": "1 article",
        "articles_count_many": "{count} articles",
        "see_all": "See all {count} articles",
        "other_articles": "Other articles",
        "popular_title": "Popular articles",
        "contact_title": "Contact support",
        "contact_lead": "We’ll pass on what you already tried, so you won’t have to repeat it.",
        "contact_tried": "What we’ll send along",
        "contact_searched": "Searched the help center for “{query}”",
        "contact_read": "Read “{title}” ({url})",
        "contact_reason": "Said an article did not help: {reason}",
        "contact_language": "Language: {language}",
        "contact_subject": "Help with “{query}”",
        "contact_continue": "Continue to our support form",
        "contact_write": "Write to {address}",
        "contact_email_label": "Your e-mail address",
        "contact_message_label": "How can we help?",
        "contact_send": "Send to support",
        "contact_sent_title": "Your request is on its way",
        "contact_sent_lead": "A person on our support team will answer you by e-mail.",
        "contact_failed": "Your request could not be sent just now. Please try again in a few minutes.",
        "contact_prompt": "Still need help? Contact support",
        "vote_sorry": "Thank you for telling us. Sorry this article did not help.",
        "filter_label": "Filter by topic",
        "filter_all": "All topics",
        "untranslated_note": "This article isn’t available in {reader} yet, so it is shown in {language}.",
        "outdated_note": "This translation may be out of date: the {language} original was updated on {date}.",
        "read_original": "Read the original",
        "switched_note": "That page isn’t available in {reader}, so here is the {reader} help center instead.",
        "footer_links_label": "More from us",
        "breadcrumb_label": "Breadcrumb",
        "toc_title": "On this page",
        "updated": "Updated {date}",
        "translations_label": "Also available in",
        "related_title": "Related articles",
        "language_label": "Language",
        "not_found_title": "We couldn’t find that page",
        "not_found_lead": "The page may have moved, or the address may be mistyped. Try a search instead.",
        "back_home": "Back to the help center",
        "bad_request_title": "We couldn’t read that address",
        "bad_request_lead": (
            "Part of the address holds characters no help-center page uses, perhaps from a damaged link. Try a search instead."
        ),
        "session_title": "Please sign in again",
        "session_lead": (
            "Your sign-in has expired or could not be checked, so you have been signed out. Sign in again from your account "
            "to see articles for your account, or carry on reading the public help center."
        ),
        "continue_public": "Continue without signing in",
        "sign_out": "Sign out",
        "footer": "Powered by kb, an open-source knowledge base.",
        "forbidden_title": "That form came from another site",
        "forbidden_lead": "Feedback is only taken from this help center's own pages. Open the article here and try again.",
        "vote_title": "Was this article helpful?",
        "vote_yes": "Yes",
        "vote_no": "No",
        "vote_reason_legend": "What was wrong?",
        "vote_reason_outdated": "It is out of date",
        "vote_reason_unclear": "It is hard to understand",
        "vote_reason_did_not_answer": "It did not answer my question",
        "vote_reason_other": "Something else",
        "vote_comment_label": "Tell us more (optional)",
        "vote_comment_hint": "Please leave out personal details such as e-mail addresses or order numbers.",
        "vote_send": "Send",
        "vote_thanks": "Thank you for your feedback.",
        "vote_already": "Thank you: your vote on this version of the article is already counted.",
        "vote_failed": "Your feedback could not be sent. Please try again.",
        "announcements_label": "Service announcements",
        "severity_info": "Notice",
        "severity_maintenance": "Maintenance",
        "severity_incident": "Incident",
        "announcement_until": "until {when}",
        "announcement_from": "from {when}",
        "announcement_ended": "This announcement ended {when}.",
        "announcement_scheduled": "Scheduled {window}.",
        "announcement_active": "In effect {window}.",
    },
    "ja": {
        "skip_to_content": "本文へスキップ",
        "hero_title": "どのようなことでお困りですか？",
        "hero_lead": "ガイドやよくある質問を検索するか、トピックから探してください。",
        "search_label": "ヘルプセンターを検索",
        "search_placeholder": "キーワードを入力（例: パスワード 再設定）",
        "search_button": "検索",
        "search_title": "検索結果",
        "search_prompt": "質問やキーワードを入力して、ヘルプセンターを検索してください。",
        "suggestions_label": "おすすめの記事",
        "suggestions_all": "「{query}」の検索結果をすべて表示",
        "suggestions_none": "候補はありません",
        "suggestions_count": "候補が {count} 件あります。上下の矢印キーで選択できます。",
        "results_one": "「{query}」の検索結果 1 件",
        "results_many": "「{query}」の検索結果 {count} 件",
        "read_as": "「{typed}」を「{word}」として検索しました",
        "no_results_title": "「{query}」に一致する記事は見つかりませんでした",
        "no_results_hint": "キーワードの表記を確認するか、別の言葉や短い言葉で検索してください。下のトピックから探すこともできます。",
        "invalid_query": "この検索は実行できません: {reason}",
        "pagination_label": "検索結果のページ",
        "previous": "前へ",
        "next": "次へ",
        "page_of": "{pages} ページ中 {page} ページ目",
        "categories_title": "トピックから探す",
        "articles_count_one": "1 件の記事",
        "articles_count_many": "{count} 件の記事",
        "see_all": "{count} 件の記事をすべて表示",
        "other_articles": "その他の記事",
        "popular_title": "よく読まれている記事",
        "contact_title": "サポートに問い合わせる",
        "contact_lead": "これまでにお試しいただいた内容をお伝えするので、同じ説明を繰り返す必要はありません。",
        "contact_tried": "一緒にお送りする内容",
        "contact_searched": "ヘルプセンターで「{query}」を検索",
        "contact_read": "「{title}」を閲覧（{url}）",
        "contact_reason": "記事が役に立たなかった理由：{reason}",
        "contact_language": "言語：{language}",
        "contact_subject": "「{query}」についての問い合わせ",
        "contact_continue": "サポートフォームに進む",
        "contact_write": "{address} にメールする",
        "contact_email_label": "メールアドレス",
        "contact_message_label": "お問い合わせ内容",
        "contact_send": "サポートに送信する",
        "contact_sent_title": "お問い合わせを受け付けました",
        "contact_sent_lead": "サポート担当者からメールでご連絡します。",
        "contact_failed": "ただいまお問い合わせを送信できませんでした。数分後にもう一度お試しください。",
        "contact_prompt": "解決しない場合はサポートに問い合わせる",
        "vote_sorry": "ご意見ありがとうございます。お役に立てず申し訳ありません。",
        "filter_label": "トピックで絞り込む",
        "filter_all": "すべてのトピック",
        "untranslated_note": "この記事はまだ{reader}に翻訳されていないため、{language}で表示しています。",
        "outdated_note": "この翻訳は最新ではない可能性があります。原文（{language}）は{date}に更新されました。",
        "read_original": "原文を読む",
        "switched_note": "お探しのページは{reader}では提供されていないため、{reader}のヘルプセンターのホームを表示しています。",
        "footer_links_label": "関連リンク",
        "breadcrumb_label": "パンくずリスト",
        "toc_title": "目次",
        "updated": "更新日: {date}",
        "translations_label": "他の言語",
        "related_title": "関連記事",
        "language_label": "言語",
        "not_found_title": "ページが見つかりませんでした",
        "not_found_lead": "ページが移動したか、アドレスが間違っている可能性があります。検索をお試しください。",
        "back_home": "ヘルプセンターのトップへ",
        "bad_request_title": "このアドレスは読み取れませんでした",
        "bad_request_lead": (
            "アドレスの一部に、ヘルプセンターのページでは使われない文字が含まれています。"
            "リンクが壊れている可能性があります。検索をお試しください。"
        ),
        "session_title": "もう一度サインインしてください",
        "session_lead": (
            "サインインの有効期限が切れたか確認できなかったため、サインアウトしました。"
            "アカウント向けの記事を見るには、アカウントからもう一度サインインしてください。"
            "公開されているヘルプセンターはこのままご覧いただけます。"
        ),
        "continue_public": "サインインせずに続ける",
        "sign_out": "サインアウト",
        "footer": "Powered by kb（オープンソースのナレッジベース）",
        "forbidden_title": "ほかのサイトからのフォームは受け付けていません",
        "forbidden_lead": (
            "フィードバックはこのヘルプセンターのページからのみ受け付けています。記事をこちらで開いて、もう一度お試しください。"
        ),
        "vote_title": "この記事は役に立ちましたか？",
        "vote_yes": "はい",
        "vote_no": "いいえ",
        "vote_reason_legend": "どのような問題がありましたか？",
        "vote_reason_outdated": "内容が古い",
        "vote_reason_unclear": "わかりにくい",
        "vote_reason_did_not_answer": "知りたいことが書かれていない",
        "vote_reason_other": "その他",
        "vote_comment_label": "詳しく教えてください（任意）",
        "vote_comment_hint": "メールアドレスや注文番号などの個人情報は書かないでください。",
        "vote_send": "送信する",
        "vote_thanks": "フィードバックをありがとうございました。",
        "vote_already": "ありがとうございます。この版の記事へのご評価はすでに受け付けています。",
        "vote_failed": "フィードバックを送信できませんでした。もう一度お試しください。",
        "announcements_label": "サービスからのお知らせ",
        "severity_info": "お知らせ",
        "severity_maintenance": "メンテナンス",
        "severity_incident": "障害",
        "announcement_until": "{when}まで",
        "announcement_from": "{when}から",
        "announcement_ended": "このお知らせは{when}に終了しました。",
        "announcement_scheduled": "予定：{window}",
        "announcement_active": "実施中：{window}",
    },
}

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December")


def format_date(locale: str, value: dt.datetime | dt.date) -> str:
    """A long date as readers of ``locale`` write it; month names spelt out so no process locale is involved."""
    if locale == "ja":
        return f"{value.year}年{value.month}月{value.day}日"
    return f"{_MONTHS[value.month - 1]} {value.day}, {value.year}"


def format_moment(locale: str, value: dt.datetime) -> str:
    """A date and time as written, in the offset the writer gave it (the only time zone kb knows of it)."""
    offset = value.strftime("%z")
    zone = "UTC" if offset in ("", "+0000") else f"UTC{offset[:3]}:{offset[3:]}"
    clock = f"{value.hour:02d}:{value.minute:02d}"
    if locale == "ja":
        return f"{format_date(locale, value)} {clock}（{zone}）"
    return f"{format_date(locale, value)}, {clock} {zone}"
