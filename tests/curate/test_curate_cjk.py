"""Chinese and Japanese through curate's word-based steps: a planted near-duplicate pair and a planted
benchmark overlap are found (character n-grams), distinct posts on the same topics are kept."""

from __future__ import annotations

import pytest
from curate_helpers import article, qa, step, write_jsonl

from medadapt.curate.records import Doc

ZH_POSTS = {
    "zh-1": "医生您好，我今年四十五岁，最近体检发现空腹血糖是7.2，餐后两小时血糖11.5，糖化血红蛋白6.8%。平时不怎么运动，"
            "体重也偏重。请问我这是得了糖尿病吗？需要马上吃药吗？还是可以先通过饮食和运动控制？另外我父亲也有糖尿病，这个会遗传吗？",
    # the same post again on another forum: another greeting, a thank-you, full-width digits
    "zh-1-repost": "医生你好，我今年四十五岁，最近体检发现空腹血糖是７.２，餐后两小时血糖11.5，糖化血红蛋白6.8%。平时不怎么运动，"
                   "体重也偏重。请问我这是得了糖尿病吗？需要马上吃药吗？还是可以先通过饮食和运动控制？另外我父亲也有糖尿病，这个会遗传吗？谢谢！",
    "zh-2": "我妈妈六十八岁，高血压十几年了，一直吃氨氯地平，最近早上量血压经常在160/100左右，还有点头晕。请问是不是药量不够了？"
            "需要换药还是加药？平时饮食要注意什么？",
    "zh-3": "孩子三岁，昨天晚上开始发烧，最高39.2度，吃了布洛芬退下去又烧起来，精神还可以，能吃能玩。请问需要去医院查血常规吗？"
            "还是在家观察就行？什么情况下必须去急诊？",
    "zh-4": "最近一个月经常胃疼，尤其是空腹的时候，吃点东西会好一些，有时候还反酸、烧心。以前没有胃病史。请问这是胃溃疡吗？"
            "需要做胃镜检查吗？幽门螺杆菌要不要查？另外我也有点担心是不是糖尿病引起的。",
}
JA_POSTS = {
    "ja-1": "四十代の男性です。先月の健康診断で血圧が152/98と言われ、再検査を勧められました。自宅で朝晩測ってみると、朝は140台後半、"
            "夜は130台のことが多いです。お酒は毎日ビールを二本ほど飲みます。すぐに薬を飲み始めたほうがいいのでしょうか。それとも、"
            "まずは減塩や運動で様子を見てもいいですか。",
    "ja-1-repost": "四十代の男性です。先月の健康診断で血圧が１５２/９８と言われ、再検査を勧められました。自宅で朝晩測ってみると、朝は140台後半、"
                   "夜は130台のことが多いです。お酒は毎日ビールを二本ほど飲みます。すぐに薬を飲み始めたほうがいいのでしょうか。それとも、"
                   "まずは減塩や運動で様子を見てもいいですか。よろしくお願いします。",
    "ja-2": "二歳の娘が昨日の夜から咳と鼻水が出ていて、今朝は三十八度五分の熱がありました。水分はとれていて、機嫌もそれほど悪くありません。"
            "小児科に連れて行くべきでしょうか。夜中に呼吸が苦しそうになったら救急に行ったほうがいいですか。",
    "ja-3": "半年ほど前から、夜中に何度もトイレに起きるようになりました。昼間も尿の回数が多く、残尿感があります。六十五歳の男性です。"
            "前立腺肥大症でしょうか。泌尿器科ではどのような検査をしますか。",
    "ja-4": "高血圧で三年前から薬を飲んでいます。最近、朝の血圧が高く、健康診断でも再検査を勧められました。薬を増やしたほうがいいのか、"
            "減塩や運動で様子を見てもいいのか、主治医に相談する前に知っておきたいです。",
}

ZH_EXAM = "患者男，56岁，反复上腹痛5年，近1周出现黑便，胃镜示胃角溃疡，幽门螺杆菌阳性，首选的治疗方案是"
ZH_EXAM_SHORT = "糖尿病酮症酸中毒最常见的诱因是"  # shorter than an n-gram: must appear whole
JA_EXAM = "58歳の男性。3か月前からの体重減少と口渇を主訴に来院した。空腹時血糖値は245mg/dL、HbA1cは10.2%であった。最も適切な対応はどれか。"
JA_EXAM_SHORT = "心房細動の患者で最も注意すべき合併症はどれか。"


def _posts(posts: dict[str, str], lang: str) -> list[Doc]:
    return [qa(id, text, "请及时就医。" if lang == "zh" else "医療機関を受診してください。", lang=lang)
            for id, text in posts.items()]


@pytest.mark.parametrize("posts, lang", [(ZH_POSTS, "zh"), (JA_POSTS, "ja")])
def test_planted_near_duplicate_found_and_posts_on_the_same_topic_kept(posts, lang):
    normalize = step({"step": "normalize"}, [lang])
    near_dedup = step({"step": "near_dedup"}, [lang])  # the defaults: threshold 0.8, 5 (words → characters)
    docs = normalize.apply(_posts(posts, lang)).kept
    result = near_dedup.apply(docs)
    assert [r.doc.id for r in result.rejected] == [f"{lang}-1-repost"]
    assert result.rejected[0].cluster_id == f"{lang}-1"
    assert len(result.kept) == len(posts) - 1


def test_planted_benchmark_overlap_found_in_chinese_and_japanese(tmp_path):
    bench = write_jsonl(tmp_path / "exam.jsonl", [
        {"id": "cmb-1", "lang": "zh", "question": ZH_EXAM, "choices": ["a", "b"], "answer": 0},
        {"id": "cmb-2", "lang": "zh", "question": ZH_EXAM_SHORT, "choices": ["a", "b"], "answer": 0},
        {"id": "igaku-1", "lang": "ja", "question": JA_EXAM, "choices": ["a", "b"], "answer": 0},
        {"id": "igaku-2", "lang": "ja", "question": JA_EXAM_SHORT, "choices": ["a", "b"], "answer": 0},
    ])
    decontaminate = step({"step": "decontaminate"}, ["zh", "ja"], evaluation_files={"exam": bench})
    docs = [
        # copied into a study post, with other punctuation and full-width digits
        article("zh-leak", "复习执业医师考试时看到这道题：患者男、５６岁，反复上腹痛5年，近1周出现黑便。胃镜示胃角溃疡，"
                           "幽门螺杆菌阳性——首选的治疗方案是什么？我选了四联疗法，不知道对不对。", lang="zh"),
        qa("zh-leak-short", "请问糖尿病酮症酸中毒最常见的诱因是什么？", "感染最常见。", lang="zh"),
        article("ja-leak", "国試の過去問です。５８歳の男性。３か月前からの体重減少と口渇を主訴に来院した。空腹時血糖値は245mg/dL、"
                           "HbA1cは10.2%であった。最も適切な対応はどれか。答えはインスリン導入だと思います。", lang="ja"),
        qa("ja-leak-short", "心房細動の患者で最も注意すべき合併症はどれか、教えてください。", "脳梗塞です。", lang="ja"),
        *_posts({k: v for k, v in ZH_POSTS.items() if k != "zh-1-repost"}, "zh"),
        *_posts({k: v for k, v in JA_POSTS.items() if k != "ja-1-repost"}, "ja"),
    ]
    result = decontaminate.apply(docs)
    reasons = {r.doc.id: r.reason for r in result.rejected}
    assert sorted(reasons) == ["ja-leak", "ja-leak-short", "zh-leak", "zh-leak-short"]
    assert "exam item cmb-1" in reasons["zh-leak"] and "exam item igaku-1" in reasons["ja-leak"]
    assert "exam item cmb-2" in reasons["zh-leak-short"] and "exam item igaku-2" in reasons["ja-leak-short"]
    assert "«糖尿病酮症酸中毒最常见的诱因是»" in reasons["zh-leak-short"]  # characters shown side by side


def test_lengths_count_the_languages_own_words():
    answer_length = step({"step": "answer_length", "min_words": 30}, ["zh", "ja", "en"])
    short_zh = qa("zh", "孩子发烧怎么办？", "多喝水，注意休息，体温超过38.5度可以吃退烧药，精神不好就去医院。", lang="zh")
    long_ja = qa("ja", "熱が下がりません。", JA_POSTS["ja-2"], lang="ja")
    result = answer_length.apply([short_zh, long_ja])
    assert [d.id for d in result.kept] == ["ja"]
    assert result.rejected[0].reason.endswith("words < 22 (30 × 0.72 for zh)")
