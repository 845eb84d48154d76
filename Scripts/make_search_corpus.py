#!/usr/bin/env python3
"""Writes a deterministic corpus of varied English sentences, and a separate set of queries, for
measuring semantic search (Docs/Search.md).

    python3 Scripts/make_search_corpus.py                      # 3000 lines, 500 queries
    python3 Scripts/make_search_corpus.py --lines 3000 --queries 500 --out .build-search

Writes OUT/corpus.txt and OUT/queries.txt (default OUT: .build-search, git-ignored). Sentences are
built from templates over many topics, so the corpus has clusters (same topic, different wording) and
near-duplicates, like a real one. Queries come from the same generator with another seed, and none is
a line of the corpus. Same arguments, same files: only Python's own random.Random(seed) is used.
"""
import argparse
import os
import random

TOPICS = {
    "cooking": {
        "subjects": ["the chef", "my grandmother", "a home cook", "the baker", "our neighbour", "the students"],
        "verbs": ["bakes", "roasts", "chops", "stirs", "prepares", "tastes", "seasons", "grills"],
        "objects": ["fresh bread", "a vegetable soup", "the onions", "a chocolate cake", "spicy noodles",
                    "a pot of rice", "grilled salmon", "apple pie", "the tomato sauce", "garlic butter"],
        "places": ["in the kitchen", "at the restaurant", "over an open fire", "for the family dinner",
                   "before the guests arrive", "on a rainy Sunday"],
        "questions": ["How long should {o} cook?", "What is the best way to make {o}?",
                      "Can you freeze {o}?", "Why did {o} turn out dry?"],
    },
    "sports": {
        "subjects": ["the striker", "the home team", "a young sprinter", "the goalkeeper", "the coach",
                     "the tennis player", "the cyclists"],
        "verbs": ["wins", "loses", "trains for", "prepares for", "celebrates", "dominates", "misses"],
        "objects": ["the final match", "the championship", "a penalty kick", "the marathon", "the relay race",
                    "the season opener", "a difficult tournament", "the world record"],
        "places": ["in front of a huge crowd", "despite the heavy rain", "after months of practice",
                   "at the national stadium", "in the last minute"],
        "questions": ["Who won {o}?", "When does {o} start?", "How do athletes train for {o}?",
                      "Where can I watch {o}?"],
    },
    "technology": {
        "subjects": ["the engineer", "a software developer", "the startup", "the research lab",
                     "our IT department", "the hackers", "the phone maker"],
        "verbs": ["releases", "debugs", "updates", "designs", "tests", "deploys", "secures", "rewrites"],
        "objects": ["a new smartphone", "the database server", "the mobile app", "an open-source library",
                    "the company network", "a machine learning model", "the laptop battery", "cloud storage"],
        "places": ["after a security breach", "ahead of the launch", "over the weekend", "for millions of users",
                   "with a small budget", "in record time"],
        "questions": ["How do I fix {o}?", "Is {o} safe to use?", "Why is {o} so slow?",
                      "What is new in {o}?"],
    },
    "weather": {
        "subjects": ["the forecast", "a strong storm", "the heat wave", "heavy snow", "a cold front",
                     "the morning fog", "thunderstorms"],
        "verbs": ["hits", "covers", "moves across", "threatens", "leaves", "reaches", "delays"],
        "objects": ["the coastal towns", "the northern valleys", "the airport", "the city centre",
                    "the mountain roads", "the farmland", "the harbour"],
        "places": ["tomorrow morning", "late tonight", "during the weekend", "for the third day in a row",
                   "earlier than expected"],
        "questions": ["Will it rain on {o}?", "How cold will it get near {o}?",
                      "Is there a storm warning for {o}?", "What is the weather like at {o}?"],
    },
    "finance": {
        "subjects": ["the central bank", "investors", "the stock market", "a small business", "the government",
                     "oil prices", "the housing market"],
        "verbs": ["raises", "cuts", "worries about", "reports", "recovers from", "invests in", "reduces"],
        "objects": ["interest rates", "quarterly profits", "the national debt", "inflation", "new jobs",
                    "consumer spending", "the budget deficit", "mortgage costs"],
        "places": ["this quarter", "after the announcement", "for the first time in years",
                   "despite the recession", "in a surprise move"],
        "questions": ["Why are {o} rising?", "How do {o} affect savings?", "What happens to {o} next year?",
                      "Should I worry about {o}?"],
    },
    "travel": {
        "subjects": ["the tourists", "a backpacker", "our family", "the tour guide", "a business traveller",
                     "the cruise ship", "the pilgrims"],
        "verbs": ["visits", "explores", "books", "photographs", "leaves", "returns to", "discovers"],
        "objects": ["the old castle", "a quiet beach", "the night train", "a mountain village",
                    "the famous museum", "the ancient ruins", "a cheap hotel", "the island ferry"],
        "places": ["in early spring", "on a tight budget", "for the honeymoon", "during the festival",
                   "after a long flight"],
        "questions": ["How do I get to {o}?", "Is {o} worth visiting?", "When is {o} open?",
                      "How much does {o} cost?"],
    },
    "health": {
        "subjects": ["the doctor", "a nurse", "the patient", "researchers", "the hospital", "my trainer",
                     "the pharmacist"],
        "verbs": ["recommends", "studies", "treats", "prescribes", "warns about", "measures", "explains"],
        "objects": ["a healthy diet", "regular exercise", "the flu vaccine", "high blood pressure",
                    "a good night's sleep", "back pain", "vitamin supplements", "daily stress"],
        "places": ["for older adults", "after the surgery", "during the winter", "for busy parents",
                   "in a new study"],
        "questions": ["How can I improve {o}?", "What causes {o}?", "Is {o} really necessary?",
                      "How often should I think about {o}?"],
    },
    "animals": {
        "subjects": ["the cat", "a large dog", "the farmer's horse", "a family of ducks", "the old parrot",
                     "the zookeeper", "a wild fox"],
        "verbs": ["chases", "sleeps near", "watches", "follows", "feeds", "hides from", "plays with"],
        "objects": ["the garden birds", "a red ball", "the sheep", "the small children", "the fish pond",
                    "a pile of leaves", "the barn door"],
        "places": ["all afternoon", "in the sunny yard", "at dawn", "by the river", "behind the house"],
        "questions": ["Why does a cat chase {o}?", "Is it safe to leave pets near {o}?",
                      "How do animals react to {o}?", "What do animals do with {o}?"],
    },
    "music": {
        "subjects": ["the band", "a young pianist", "the orchestra", "the street musician", "a famous singer",
                     "the choir", "the drummer"],
        "verbs": ["performs", "records", "rehearses", "writes", "plays", "releases", "cancels"],
        "objects": ["a new album", "the symphony", "an acoustic set", "a love song", "the summer tour",
                    "a jazz standard", "the opening concert"],
        "places": ["on stage tonight", "in a tiny studio", "for a sold-out crowd", "at the festival",
                   "on the radio"],
        "questions": ["When is {o} coming out?", "Where can I hear {o}?", "Who wrote {o}?",
                      "How long is {o}?"],
    },
    "education": {
        "subjects": ["the teacher", "the university", "a first-year student", "the school board", "the tutor",
                     "the librarian", "our class"],
        "verbs": ["teaches", "reviews", "grades", "introduces", "discusses", "explains", "prepares"],
        "objects": ["the history lesson", "a math exam", "the reading list", "online courses",
                    "the science project", "a new curriculum", "the final essay"],
        "places": ["before the holidays", "in the lecture hall", "for the new term", "after school",
                   "with great patience"],
        "questions": ["How do I prepare for {o}?", "Is {o} difficult?", "When is {o} due?",
                      "What is covered in {o}?"],
    },
}

ADVERBS = ["quickly", "carefully", "proudly", "slowly", "suddenly", "happily", "finally", "again"]
OPENERS = ["", "", "", "Yesterday, ", "Every year, ", "According to the news, ", "Surprisingly, ",
           "As usual, ", "Last week, ", "Once again, "]


def capitalize(text):
    return text[0].upper() + text[1:]


def statement(rng, topic):
    t = TOPICS[topic]
    s, v, o, p = (rng.choice(t[key]) for key in ("subjects", "verbs", "objects", "places"))
    form = rng.randrange(5)
    if form == 0:
        text = f"{s} {v} {o} {p}."
    elif form == 1:
        text = f"{s} {rng.choice(ADVERBS)} {v} {o}."
    elif form == 2:
        text = f"everyone says that {s} {v} {o} {p}."
    elif form == 3:
        other = rng.choice(t["objects"])
        text = f"{s} {v} {o} and then {other}."
    else:
        text = f"it seems that {s} {v} {o} {p}."
    opener = rng.choice(OPENERS)
    return opener + text if opener else capitalize(text)


def question(rng, topic):
    t = TOPICS[topic]
    return rng.choice(t["questions"]).format(o=rng.choice(t["objects"]))


def generate(count, seed, exclude=frozenset(), questions=0.0):
    rng = random.Random(seed)
    topics = sorted(TOPICS)
    seen, lines = set(exclude), []
    while len(lines) < count:
        topic = rng.choice(topics)
        text = question(rng, topic) if rng.random() < questions else statement(rng, topic)
        text = text[0].upper() + text[1:]
        if text not in seen:
            seen.add(text)
            lines.append(text)
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=3000, help="corpus lines (default 3000)")
    parser.add_argument("--queries", type=int, default=500, help="queries (default 500)")
    parser.add_argument("--out", default=".build-search", help="output folder (default .build-search)")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    corpus = generate(args.lines, args.seed, questions=0.1)
    queries = generate(args.queries, args.seed + 1, exclude=frozenset(corpus), questions=0.5)
    os.makedirs(args.out, exist_ok=True)
    for name, lines in (("corpus.txt", corpus), ("queries.txt", queries)):
        with open(os.path.join(args.out, name), "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
    print(f"wrote {len(corpus)} corpus lines and {len(queries)} queries to {args.out}/")


if __name__ == "__main__":
    main()
