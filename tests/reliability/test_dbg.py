import json, threading
from tests.reliability.kits import HELPCRUNCH as kit
from tests.reliability.test_boundaries import load
from tests.reliability.compare import key_sets, dlt_state

def test_dbg(start, warehouse):
    for attempt in range(6):
        server = start(kit)
        load(kit)
        stop, writes = threading.Event(), []
        def writer():
            while not stop.is_set():
                writes.append(server.api.mutate(**{**kit.mutation, "advance_seconds": 1}))
                stop.wait(0.1)
        t = threading.Thread(target=writer, daemon=True); t.start()
        load(kit)
        stop.set(); t.join()
        state2 = json.loads(json.dumps(dlt_state(warehouse, kit.name)))
        load(kit)
        snap = server.api.snapshot()
        c, lost, d, what = key_sets(warehouse, kit.keys, snap)
        if lost:
            print(what)
            lost_ids = {int(w.split("[")[1].split("]")[0].split(",")[0].strip("'")) for w in what if "messages lost" in w}
            for m in snap["messages"]:
                if m["id"] in lost_ids:
                    chat = next(ch for ch in snap["chats"] if ch["id"] == m["chat"])
                    print("lost msg", m["id"], m["createdAt"], m["type"], "chat", chat["id"], "lastMessageAt", chat["lastMessageAt"], "lastMessageId", chat["lastMessageId"])
                    print("state2 known", state2["messages"]["last_message"].get(str(chat["id"])), "state3", dlt_state(warehouse, kit.name)["messages"]["last_message"].get(str(chat["id"])))
                    rows = warehouse.query(f"SELECT id, created_at, type FROM helpcrunch.messages WHERE chat = {chat['id']} ORDER BY created_at")
                    print(rows[-5:])
                    print("writes touching chat:", [ (i, w["previous_now"], w["now"]) for i, w in enumerate(writes) if chat["id"] in w["updated_chat_ids"]])
                    for r in server.requests():
                        if f"/chats/{chat['id']}/messages" in r.path: print("req", r.at, r.query)
            print("updated_since", state2["chats"], dlt_state(warehouse, kit.name)["chats"])
            break
        print("attempt", attempt, "ok")
