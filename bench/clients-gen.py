#!/usr/bin/env python3
"""Deterministic generator of realistic clients for bench/clients.sh (never a test).

Writes COUNT clients as NDJSON files of CHUNK rows each (chunk-000.ndjson, ...) into OUT,
every row a client's writable fields (docs/clients.md): varied first and last names
(several languages, some with diacritics), unique e-mails derived from them, companies,
phones, statuses, tags, sources, notes and properties. The same seed gives the same
files on any Python 3.

Prints one JSON object on stdout: rows, files, bytes, and for --query the number of
clients the API's search would match (every word of q the prefix of a word of first name,
last name, e-mail or company; words are runs of letters and digits, lowercased).

    clients-gen.py --count 100000 --chunk 10000 --seed 20261126 --query kowal --out DIR
"""

import argparse
import json
import os
import random
import re
import unicodedata

FIRST_NAMES = """
Ada Alan Grace Linus Margaret Ken Barbara Edsger Donald Frances John Mary James Patricia
Robert Jennifer Michael Linda William Elizabeth David Susan Richard Jessica Joseph Sarah
Thomas Karen Charles Nancy Christopher Lisa Daniel Betty Matthew Sandra Anthony Ashley Mark
Emily Paul Donna Steven Michelle Andrew Carol Joshua Amanda Kevin Melissa Brian Deborah
George Stephanie Timothy Rebecca Ronald Laura Jason Helen Ryan Amy Jacob Anna Gary Kathleen
Nicholas Shirley Eric Angela Jonathan Emma Stephen Brenda Larry Pamela Justin Nicole Scott
Samantha Brandon Katherine Benjamin Christine Samuel Rachel Gregory Carolyn Alexander Janet
Patrick Maria Frank Olivia Raymond Heather Jack Diane Dennis Julie Jerry Joyce Tyler Victoria
Aaron Kelly Jose Lauren Adam Christina Nathan Joan Henry Evelyn Zachary Judith Douglas Megan
Peter Andrea Kyle Cheryl Noah Hannah Ethan Jacqueline Jeremy Martha Walter Gloria Christian
Teresa Keith Ann Roger Sara Terry Madison Austin Frances Sean Kathryn Gerald Janice Carl Jean
Harold Abigail Dylan Alice Arthur Judy Lawrence Sophia Jordan Grace Jesse Denise Bryan Amber
Łukasz Małgorzata Krzysztof Agnieszka Piotr Katarzyna Tomasz Magdalena Paweł Joanna Michał
Zofia Wojciech Ewa Jakub Aleksandra Jürgen Jörg Björn Søren Åsa Sven Ingrid Lars Astrid Nils
Freya Hans Greta Klaus Heike Matthias Sabine Stefan Ulrike Wolfgang Birgit François Amélie
Jérôme Hélène Céline Étienne Léa Mathéo Chloé Théo José María Javier Lucía Sergio Carmen
Álvaro Pilar Andrés Inés Giulia Marco Francesca Alessandro Chiara Matteo Valentina Luca
Sofia Giorgio Federica Pieter Sanne Daan Femke Joost Anouk Priya Arjun Ananya Rohan Divya
Vikram Sneha Rahul Aisha Omar Fatima Yusuf Leila Karim Mei Wei Jing Hao Xin Yuki Haruto Sakura
Ren Aoi Kenji Hana Seo-yeon Min-jun Ji-woo Oluwaseun Chinedu Amara Kwame Zainab Tendai Thabo
Nomvula Siobhán Seán Niamh Oisín Aoife Dmitri Olga Sergei Natalia Ivan Tatiana Mateus Beatriz
Thiago Larissa Gabriel Camila
""".split()

# Surnames in rough frequency order: picked with Zipf-like weights (rank ** -0.6).
LAST_NAMES = """
Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez
Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris
Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill
Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Müller Schmidt
Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch Bauer Richter Klein
Wolf Schröder Neumann Schwarz Zimmermann Nowak Wiśniewski Wójcik Kowalczyk Kamiński Lewandowski
Zieliński Szymański Woźniak Dąbrowski Kozłowski Jankowski Mazur Kwiatkowski Krawczyk Kaczmarek
Piotrowski Grabowski Zając Pawłowski Michalski Król Wieczorek Jabłoński Wróbel Nowakowski
Majewski Olszewski Stępień Malinowski Jaworski Adamczyk Dudek Nowicki Pawlak Górski Witkowski
Walczak Sikora Baran Rutkowski Michalak Szewczyk Ostrowski Tomaszewski Pietrzak Kowalski
Kowalewski Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent
Lefebvre Michel Fournier Girard Bonnet Dupont Lambert Fontaine Rousseau Vincent Rossi Russo
Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno Gallo Conti DeLuca Mancini
Costa Giordano Rizzo Lombardi Moretti DeJong Jansen DeVries VanDenBerg VanDijk Bakker Janssen
Visser Smit Meijer DeBoer Mulder DeGroot Bos Vos Peters Hendriks Johansson Andersson Karlsson
Nilsson Eriksson Larsson Olsson Persson Svensson Gustafsson Hansen Jensen Nielsen Pedersen
Andersen Christensen Larsen Sørensen Rasmussen Jørgensen Virtanen Korhonen Mäkinen Nieminen
Mäkelä Hämäläinen Patel Sharma Singh Kumar Gupta Reddy Iyer Nair Menon Rao Das Chatterjee
Banerjee Mehta Shah Joshi Kapoor Malhotra Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu
Sun Ma Zhu Hu Guo He Lin Luo Gao Sato Suzuki Takahashi Tanaka Watanabe Ito Yamamoto Nakamura
Kobayashi Kato Yoshida Yamada Sasaki Kim Park Choi Jung Kang Cho Yoon Jang Lim Han Oh Seo Shin
Kwon Hwang Ahn Song Okafor Adeyemi Okonkwo Mensah Boateng Diallo Traoré Ndlovu Dlamini Khumalo
Mokoena Nkosi Murphy Kelly OSullivan Walsh ONeill Byrne Ryan OBrien Doyle McCarthy Gallagher
Ivanov Smirnov Kuznetsov Popov Vasiliev Petrov Sokolov Mikhailov Novikov Fedorov Silva Santos
Oliveira Souza Pereira Lima Carvalho Ferreira Almeida Ribeiro Gomes Martins Rocha Alves
Fernández González Rodríguez López Martínez Sánchez Pérez Gómez Díaz Moreno Muñoz Álvarez
Romero Alonso Gutiérrez Navarro Ruiz Jiménez Domínguez Vázquez Ramos Gil Serrano Blanco
Suárez Molina Morales Ortega Delgado Castro Ortiz Rubio Marín Sanz Iglesias Núñez Medina Garrido
""".split()

COMPANY_HEADS = """
Northwind Contoso Fabrikam Globex Initech Umbrella Hooli Vandelay Soylent Cyberdyne Tyrell
Wonka Aperture Stark Wayne Oscorp Acme Gringotts Dunder Prestige Monarch Massive Duff Sirius
Blue_Harbor Red_Oak Silver_Birch Green_Valley Iron_Bridge Golden_Gate
Summit Horizon Pinnacle Vertex Nimbus Aurora Zenith Meridian Polaris Cobalt Quantum Vector
Atlas Orion Helix Nova Lumen Apex Crescent Evergreen Riverstone Lakeside Highland Coastal
Nordic Baltic Alpine Pacific Atlantic Sahara Andes Danube Rhine Vistula Thames Seine Kilimanjaro
Brightwave Clearpath Deepfield Fairway Keystone Lighthouse Northstar Oakridge Pinewood Redwood
Stonebridge Sunrise Trailhead Westwind Bluebird Copperleaf Driftwood Firefly Granite Harvest
""".split()
COMPANY_TAILS = """
Logistics Analytics Labs Consulting Foods Health Software Systems Media Energy Robotics
Partners Capital Studio Retail Bakery Pharma Motors Freight Insurance Travel Textiles Solar
Semiconductors Biotech Games Legal Architects Dental Brewing Coffee Outdoor Fitness Robotics
""".split()
COMPANY_SUFFIXES = ["", "", "", " Ltd", " GmbH", " Inc.", " S.A.", " sp. z o.o.", " B.V.",
                    " LLC", " AG", " SAS", " S.r.l.", " AB", " Oy", " KK", " Pty Ltd"]
FREE_MAIL = ["gmail.com", "outlook.com", "yahoo.com", "proton.me", "icloud.com", "web.de",
             "gmx.de", "wp.pl", "onet.pl", "orange.fr", "libero.it", "hotmail.co.uk",
             "mail.ru", "qq.com", "naver.com", "yahoo.co.jp"]
TAGS = ["vip", "beta", "newsletter", "partner", "trial", "enterprise", "smb", "churn-risk",
        "webinar-2026", "conference", "referral", "upsell", "priority", "gdpr-ok", "eu", "us",
        "apac", "latam", "q1-target", "q2-target", "renewal", "onboarding", "support-heavy",
        "champion", "decision-maker", "inbound", "outbound", "nps-promoter", "nps-detractor"]
STATUSES = (["lead"] * 45) + (["active"] * 35) + (["inactive"] * 12) + (["churned"] * 8)
SOURCES = ["website", "webinar", "referral", "linkedin", "conference", "cold outreach",
           "partner", "import", "trade show", "newsletter signup", None, None]
PLANS = ["free", "starter", "pro", "pro", "business", "enterprise"]
INDUSTRIES = ["retail", "logistics", "healthcare", "finance", "education", "manufacturing",
              "media", "hospitality", "software", "energy", "public sector", "agriculture"]
COUNTRIES = [("+44", 10), ("+49", 10), ("+1", 10), ("+48", 9), ("+33", 9), ("+34", 9),
             ("+39", 10), ("+31", 9), ("+46", 9), ("+45", 8), ("+91", 10), ("+81", 10),
             ("+82", 9), ("+55", 11), ("+27", 9), ("+353", 9)]
NOTE_BITS = ["Met at the Berlin conference; wants a follow-up in Q2.",
             "Asked about SSO and audit logs.", "Prefers e-mail over calls.",
             "Budget approved for next quarter.", "Evaluating two competitors.",
             "Renewal due in March; champion is on leave until then.",
             "Requested a demo of the reporting module.", "Invoice address changed in May.",
             "Follow up about the data-processing agreement.",
             "Interested in the annual plan with 20 seats."]

WORD = re.compile(r"[^\W_]+")


def ascii_fold(text):
    text = text.replace("ł", "l").replace("Ł", "L").replace("ø", "o").replace("Ø", "O")
    text = text.replace("æ", "ae").replace("ß", "ss")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def slug(text):
    return re.sub(r"[^a-z0-9]+", "-", ascii_fold(text).lower()).strip("-")


def words(*fields):
    out = set()
    for field in fields:
        if field:
            out.update(WORD.findall(field.lower()))
    return out


def companies(rng, count):
    seen, out = set(), []
    while len(out) < count:
        if rng.random() < 0.12:
            # Family businesses: "Nowak & Sons", "Rossi Bakery".
            head = rng.choice(LAST_NAMES)
            name = rng.choice([f"{head} & Sons", f"{head} {rng.choice(COMPANY_TAILS)}",
                               f"{head} & {rng.choice(LAST_NAMES)}"])
        else:
            name = f"{rng.choice(COMPANY_HEADS)} {rng.choice(COMPANY_TAILS)}"
        name = (name + rng.choice(COMPANY_SUFFIXES)).replace("_", " ")
        if name not in seen:
            seen.add(name)
            out.append(name)
    return out


def phone(rng):
    code, digits = rng.choice(COUNTRIES)
    number = str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(digits - 1))
    style = rng.random()
    if style < 0.5:
        return code + number
    if style < 0.8:
        return f"{code} {number[:3]} {number[3:6]} {number[6:]}"
    return f"({code}) {number[:3]}-{number[3:]}"


def generate(seed, count):
    rng = random.Random(seed)
    last_weights = [(rank + 1) ** -0.6 for rank in range(len(LAST_NAMES))]
    book = companies(rng, 2500)
    book_weights = [(rank + 1) ** -0.8 for rank in range(len(book))]
    emails = set()
    for _ in range(count):
        first = rng.choice(FIRST_NAMES) if rng.random() < 0.97 else None
        last = rng.choices(LAST_NAMES, last_weights)[0] if rng.random() < 0.98 else None
        company = rng.choices(book, book_weights)[0] if rng.random() < 0.8 else None
        f, l = ascii_fold(first or "").lower(), ascii_fold(last or "").lower()
        f, l = re.sub(r"[^a-z]", "", f), re.sub(r"[^a-z]", "", l)
        shapes = [s for s in (f and l and f"{f}.{l}", f and l and f"{f[0]}{l}",
                              f and l and f"{f}{l[0]}", f and l and f"{l}.{f}",
                              f and l and f"{f}_{l}", f, l) if s] or ["contact"]
        local = rng.choice(shapes)
        if company and rng.random() < 0.6:
            domain = slug(company.split(" & ")[0]).split("-")
            domain = "-".join(domain[:2]) + rng.choice([".com", ".com", ".io", ".de", ".eu",
                                                        ".co.uk", ".pl", ".fr"])
        else:
            domain = rng.choice(FREE_MAIL)
        email = f"{local}@{domain}"
        n = 1
        while email in emails:
            n += 1
            email = f"{local}{n if n < 10 else rng.randint(10, 9999)}@{domain}"
        emails.add(email)
        tags = sorted(set(rng.sample(TAGS, rng.choices([0, 1, 2, 3, 4], [25, 35, 22, 12, 6])[0])))
        properties = {"plan": rng.choice(PLANS), "seats": rng.randint(1, 500),
                      "trial": rng.random() < 0.2}
        if rng.random() < 0.5:
            properties["industry"] = rng.choice(INDUSTRIES)
        if rng.random() < 0.3:
            properties["mrr_eur"] = round(rng.uniform(0, 25000), 2)
        client = {
            "first_name": first,
            "last_name": last,
            "email": email,
            "phone": phone(rng) if rng.random() < 0.7 else None,
            "company": company,
            "status": rng.choice(STATUSES),
            "tags": tags,
            "notes": " ".join(rng.sample(NOTE_BITS, rng.randint(1, 3)))
            if rng.random() < 0.15 else None,
            "source": rng.choice(SOURCES),
            "subscribed": rng.random() < 0.88,
            "properties": properties,
        }
        yield {k: v for k, v in client.items() if v is not None}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--query", default="")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    query = list(WORD.findall(args.query.lower()))
    matches, total_bytes, files, out = 0, 0, 0, None
    for i, client in enumerate(generate(args.seed, args.count)):
        if i % args.chunk == 0:
            if out:
                out.close()
            out = open(os.path.join(args.out, f"chunk-{files:03d}.ndjson"), "w",
                      encoding="utf-8")
            files += 1
        line = json.dumps(client, ensure_ascii=False, separators=(",", ":")) + "\n"
        total_bytes += len(line.encode("utf-8"))
        out.write(line)
        if query:
            have = words(client.get("first_name"), client.get("last_name"), client["email"],
                         client.get("company"))
            if all(any(w.startswith(q) for w in have) for q in query):
                matches += 1
    if out:
        out.close()
    print(json.dumps({"rows": args.count, "files": files, "bytes": total_bytes,
                      "query": args.query, "query_matches": matches}))


if __name__ == "__main__":
    main()
