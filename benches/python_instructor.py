"""The same extractions as benches/local.rs (tests/common/quality.rs: four families of
held-out sentences), through Python instructor on llama-cpp-python in process (JSON_SCHEMA
mode, which llama-cpp-python takes as json_object + schema), as a user of it would write
them. Prints one JSON line: milliseconds per extraction, right and parsed counts, per
family, and tokens/s."""
import json
import sys
import time
from enum import Enum
from typing import List, Optional

import instructor
import llama_cpp
try:
    from instructor.core.exceptions import IncompleteOutputException
except ImportError:  # older instructor
    from instructor.exceptions import IncompleteOutputException
from pydantic import BaseModel, Field


class Person(BaseModel):
    """A person mentioned in the text."""
    name: str = Field(description="First name as written.")
    age: int = Field(description="Age in years.", le=150, ge=0)
    city: str = Field(description="The city they live in.")


class Sentiment(str, Enum):
    positive = "positive"
    negative = "negative"
    neutral = "neutral"


class Review(BaseModel):
    """The sentiment of a product review."""
    sentiment: Sentiment


class OrderLine(BaseModel):
    """One line of an order."""
    product: str = Field(description="The product, as named in the text.")
    quantity: int = Field(description="How many of it.", ge=1)


class Order(BaseModel):
    """What the customer ordered, each product once."""
    lines: List[OrderLine] = Field(min_length=1, max_length=8)


class Contact(BaseModel):
    """A person's contact details; a detail the text does not give is null."""
    name: str = Field(description="Full name as written.")
    email: Optional[str] = Field(default=None, description="Email address.")
    phone: Optional[str] = Field(default=None, description="Phone number as written.")
    company: Optional[str] = Field(default=None, description="The company they work for.")


MODELS = {"person": Person, "sentiment": Review, "order": Order, "contact": Contact}


def same(got, want):
    """As tests/common/quality.rs: strings without regard to case or surrounding space."""
    if isinstance(got, str) and isinstance(want, str):
        return got.strip().lower() == want.strip().lower()
    if isinstance(got, list) and isinstance(want, list):
        return len(got) == len(want) and all(same(a, b) for a, b in zip(got, want))
    if isinstance(got, dict) and isinstance(want, dict):
        return all(same(got.get(k), want.get(k)) for k in set(got) | set(want))
    return got == want


def main():
    model_path, cases = sys.argv[1], json.loads(sys.argv[2])
    llama = llama_cpp.Llama(model_path=model_path, n_ctx=2048, n_threads=1, n_threads_batch=1,
                            chat_format="gemma", verbose=False)
    create = instructor.patch(create=llama.create_chat_completion_openai_v1,
                              mode=instructor.Mode.JSON_SCHEMA)
    right, parsed, total, tokens = 0, 0, 0.0, 0
    families = {}
    for family, text, expected in cases:
        start = time.perf_counter()
        ok = False
        try:
            answer = create(messages=[{"role": "user", "content": text}],
                            response_model=MODELS[family], max_retries=0, max_tokens=128,
                            temperature=0.0)
            parsed += 1
            ok = same(answer.model_dump(mode="json"), expected)
            raw = getattr(answer, "_raw_response", None)
            tokens += raw.usage.completion_tokens if raw is not None else 0
        except IncompleteOutputException:
            tokens += 128  # it wrote until the token limit
        except Exception:  # a failed extraction still took its time
            pass
        total += time.perf_counter() - start
        right += ok
        f = families.setdefault(family, [family, 0, 0])
        f[1] += ok
        f[2] += 1
    n = len(cases)
    print(json.dumps({"ms": 1000 * total / n, "right": right, "parsed": parsed, "n": n,
                      "tok_s": tokens / total, "families": list(families.values())}))


if __name__ == "__main__":
    main()
