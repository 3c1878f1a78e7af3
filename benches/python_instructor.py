"""The same extraction as benches/local.rs, through Python instructor on llama-cpp-python
in process (JSON_SCHEMA mode, which llama-cpp-python takes as json_object + schema).
Prints one JSON line: milliseconds per extraction, how many were right, tokens/s."""
import json
import sys
import time

import instructor
import llama_cpp
try:
    from instructor.core.exceptions import IncompleteOutputException
except ImportError:  # older instructor
    from instructor.exceptions import IncompleteOutputException
from pydantic import BaseModel


class Person(BaseModel):
    name: str
    age: int
    city: str


def main():
    model_path, rounds = sys.argv[1], int(sys.argv[2])
    cases = json.loads(sys.argv[3])
    llama = llama_cpp.Llama(model_path=model_path, n_ctx=2048, n_threads=1, n_threads_batch=1,
                            chat_format="gemma", verbose=False)
    create = instructor.patch(create=llama.create_chat_completion_openai_v1,
                              mode=instructor.Mode.JSON_SCHEMA)
    right, total, tokens = 0, 0.0, 0
    for _ in range(rounds):
        for text, name, age, city in cases:
            start = time.perf_counter()
            try:
                p = create(messages=[{"role": "user", "content": text}],
                           response_model=Person, max_retries=0, max_tokens=128, temperature=0.0)
                right += p.name == name and p.age == age and p.city == city
                raw = getattr(p, "_raw_response", None)
                tokens += raw.usage.completion_tokens if raw is not None else 0
            except IncompleteOutputException:
                tokens += 128  # it wrote until the token limit
            except Exception:  # a failed extraction still took its time
                pass
            total += time.perf_counter() - start
    n = rounds * len(cases)
    print(json.dumps({"ms": 1000 * total / n, "right": right, "n": n, "tok_s": tokens / total}))


if __name__ == "__main__":
    main()
